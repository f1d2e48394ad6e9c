//! Malware scanning of staged uploads by ClamAV's `clamd`, over its Unix or TCP socket with the
//! `INSTREAM` command: the file goes in chunks (each a 4-byte big-endian length, then the bytes;
//! a zero length ends it) and clamd answers `stream: OK` or `stream: <signature> FOUND`.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::config::{ConfigError, UploadSettings};
pub use crate::domain::media::ClamdAddr;

/// Bytes sent per INSTREAM chunk (well under clamd's `StreamMaxLength`).
const CHUNK: usize = 64 * 1024;

/// Longest answer read from clamd.
const MAX_REPLY: u64 = 4096;

/// The scanner `uploads.scan` asks for, if any.
pub fn from_settings(u: &UploadSettings) -> Result<Option<Clamd>, ConfigError> {
    if u.scan != "clamav" {
        return Ok(None);
    }
    let addr =
        ClamdAddr::parse(&u.clamd).map_err(|why| ConfigError(format!("`uploads.clamd` {why}")))?;
    Ok(Some(Clamd::new(
        addr,
        Duration::from_millis(u.scan_timeout_ms),
    )))
}

/// What clamd said of a file.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Clean,
    /// The signature's name.
    Infected(String),
}

/// Why a file could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The staged file itself could not be read (not the scanner's fault).
    #[error("reading the staged file: {0}")]
    File(std::io::Error),
    #[error("clamd cannot be reached: {0}")]
    Connect(std::io::Error),
    #[error("talking to clamd: {0}")]
    Io(std::io::Error),
    #[error("clamd answered {0:?}")]
    Answer(String),
    #[error("clamd took longer than {0:?}")]
    Timeout(Duration),
}

/// A clamd to ask.
#[derive(Debug, Clone)]
pub struct Clamd {
    addr: ClamdAddr,
    timeout: Duration,
}

impl Clamd {
    pub fn new(addr: ClamdAddr, timeout: Duration) -> Self {
        Clamd { addr, timeout }
    }

    /// Streams the file at `path` to clamd and reads its verdict, all within the timeout.
    pub async fn scan_file(&self, path: &Path) -> Result<Verdict, ScanError> {
        let file = tokio::fs::File::open(path).await.map_err(ScanError::File)?;
        let work = async {
            match &self.addr {
                ClamdAddr::Unix(socket) => {
                    let conn = tokio::net::UnixStream::connect(socket)
                        .await
                        .map_err(ScanError::Connect)?;
                    instream(conn, file).await
                }
                ClamdAddr::Tcp(host_port) => {
                    let conn = tokio::net::TcpStream::connect(host_port.as_str())
                        .await
                        .map_err(ScanError::Connect)?;
                    instream(conn, file).await
                }
            }
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| ScanError::Timeout(self.timeout))?
    }
}

/// One INSTREAM exchange on a fresh connection. When clamd stops reading early (it closes the
/// stream past its `StreamMaxLength`), its answer is still read and reported.
async fn instream<S>(mut conn: S, mut file: tokio::fs::File) -> Result<Verdict, ScanError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let sent = send_stream(&mut conn, &mut file).await;
    let mut reply = Vec::new();
    let read = (&mut conn).take(MAX_REPLY).read_to_end(&mut reply).await;
    match (sent, read) {
        (Err(e @ ScanError::File(_)), _) => Err(e),
        (_, Ok(_)) if !reply.is_empty() => parse_reply(&reply),
        (Err(e), _) => Err(e),
        (Ok(()), Err(e)) => Err(ScanError::Io(e)),
        (Ok(()), Ok(_)) => Err(ScanError::Answer(String::new())),
    }
}

async fn send_stream<S>(conn: &mut S, file: &mut tokio::fs::File) -> Result<(), ScanError>
where
    S: AsyncWrite + Unpin,
{
    conn.write_all(b"zINSTREAM\0")
        .await
        .map_err(ScanError::Io)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = file.read(&mut buf).await.map_err(ScanError::File)?;
        if n == 0 {
            break;
        }
        let len = u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
        conn.write_all(&len).await.map_err(ScanError::Io)?;
        conn.write_all(&buf[..n]).await.map_err(ScanError::Io)?;
    }
    conn.write_all(&[0, 0, 0, 0]).await.map_err(ScanError::Io)?;
    conn.flush().await.map_err(ScanError::Io)
}

/// `stream: OK`, `stream: <name> FOUND`, or anything else (an `ERROR`) as a failure.
fn parse_reply(reply: &[u8]) -> Result<Verdict, ScanError> {
    let text = String::from_utf8_lossy(reply);
    let text = text.trim_end_matches(['\0', '\n', ' ']);
    let body = text.strip_prefix("stream: ").unwrap_or(text);
    if body == "OK" {
        return Ok(Verdict::Clean);
    }
    match body.strip_suffix(" FOUND") {
        Some(name) => Ok(Verdict::Infected(name.to_owned())),
        None => Err(ScanError::Answer(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse() {
        assert_eq!(parse_reply(b"stream: OK\0").ok(), Some(Verdict::Clean));
        assert_eq!(
            parse_reply(b"stream: Eicar-Test-Signature FOUND\0").ok(),
            Some(Verdict::Infected("Eicar-Test-Signature".into()))
        );
        assert!(parse_reply(b"INSTREAM size limit exceeded. ERROR\0").is_err());
    }
}
