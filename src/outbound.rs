//! HTTP to other people's servers (webhooks, link previews). Names resolve only to public
//! addresses (a host named in `allowed` may be private: tests use loopback), so a public name
//! pointing at a private address is refused at connect time, not only when its URL was checked
//! (`domain::webhook::check_url`, the URL rule all use). Link previews use one guarded reqwest
//! client, which never follows redirects itself (a caller that follows them checks each hop with
//! the same rule); webhooks are POSTed by `post`, a leaner HTTP/1.1 sender. Timeouts are set.

pub mod post;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::webhook::{check_url, private_ip, UrlRules};

/// A client for `user_agent` that gives up after `timeout` and connects to public addresses only
/// (hosts in `allowed` excepted).
pub fn guarded_client(
    allowed: &[String],
    timeout: Duration,
    user_agent: &str,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(PublicOnly {
            allowed: allowed.into(),
        }))
        .user_agent(user_agent)
        .build()
}

/// Resolves a name and keeps only public addresses (unless the host is allowed).
struct PublicOnly {
    allowed: Arc<[String]>,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let addrs: Addrs = Box::new(permitted_addrs(&host, 0, &allowed).await?.into_iter());
            Ok(addrs)
        })
    }
}

/// The addresses of `host` a connection may go to: its public ones, or all of them when the
/// host is in `allowed`; an error when that leaves none.
pub async fn permitted_addrs(
    host: &str,
    port: u16,
    allowed: &[String],
) -> std::io::Result<Vec<SocketAddr>> {
    let rules = UrlRules {
        allow_insecure_hosts: allowed,
    };
    let any = rules.allows(host);
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await?
        .filter(|a| any || !private_ip(a.ip()))
        .collect();
    if found.is_empty() {
        return Err(std::io::Error::other(
            "the host resolves to no public address",
        ));
    }
    Ok(found)
}

/// A body fetched whole (within the cap), from the URL it was finally served at.
#[derive(Debug)]
pub struct Fetched {
    pub url: reqwest::Url,
    /// The media type, lower case, without parameters.
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Why nothing was fetched.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("refused URL: {0}")]
    Url(String),
    #[error("more than {0} redirects")]
    Redirects(usize),
    #[error("answered {0}")]
    Status(u16),
    #[error("a {0} answer, not one of the types wanted")]
    Type(String),
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    #[error("{0}")]
    Http(#[from] reqwest::Error),
}

/// GETs `start`, following at most `max_redirects` redirects, each hop checked by `rules` (and
/// its address by the client's resolver); the answer must be 2xx of a type `accept` takes and at
/// most `max_bytes` long (declared or read), else nothing is kept.
pub async fn fetch_capped(
    client: &reqwest::Client,
    start: &str,
    rules: &UrlRules<'_>,
    max_bytes: u64,
    max_redirects: usize,
    accept: fn(&str) -> bool,
) -> Result<Fetched, Refused> {
    let checked = |u: &str| check_url(u, rules).map_err(|e| Refused::Url(e.to_string()));
    let mut url = checked(start)?;
    for _ in 0..=max_redirects {
        let mut resp = client.get(url.clone()).send().await?;
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or(Refused::Status(status.as_u16()))?;
            let next = url
                .join(location)
                .map_err(|e| Refused::Url(e.to_string()))?;
            url = checked(next.as_str())?;
            continue;
        }
        if !status.is_success() {
            return Err(Refused::Status(status.as_u16()));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !accept(&content_type) {
            return Err(Refused::Type(content_type));
        }
        if resp.content_length().is_some_and(|n| n > max_bytes) {
            return Err(Refused::TooLarge(max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(Refused::TooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(Fetched {
            url,
            content_type,
            body,
        });
    }
    Err(Refused::Redirects(max_redirects))
}
