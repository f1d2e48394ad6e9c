//! Issue 20's small rules about media: where the malware scanner listens.

use std::path::PathBuf;

/// Where clamd listens: `unix:/path/clamd.sock` or `tcp:host:port`.
#[derive(Debug, Clone, PartialEq)]
pub enum ClamdAddr {
    Unix(PathBuf),
    Tcp(String),
}

impl ClamdAddr {
    /// Parses the `uploads.clamd` setting.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("names no socket path after `unix:`".into());
            }
            return Ok(ClamdAddr::Unix(PathBuf::from(path)));
        }
        if let Some(hp) = s.strip_prefix("tcp:") {
            let port_ok = hp
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !port_ok {
                return Err("must be `tcp:host:port`".into());
            }
            return Ok(ClamdAddr::Tcp(hp.to_owned()));
        }
        Err("must be `unix:/path/clamd.sock` or `tcp:host:port`".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        assert_eq!(
            ClamdAddr::parse("unix:/run/clamav/clamd.ctl"),
            Ok(ClamdAddr::Unix(PathBuf::from("/run/clamav/clamd.ctl")))
        );
        assert_eq!(
            ClamdAddr::parse("tcp:127.0.0.1:3310"),
            Ok(ClamdAddr::Tcp("127.0.0.1:3310".into()))
        );
        for bad in [
            "",
            "unix:",
            "tcp:host",
            "tcp::3310",
            "tcp:h:99999",
            "/run/clamd",
        ] {
            assert!(ClamdAddr::parse(bad).is_err(), "{bad}");
        }
    }
}
