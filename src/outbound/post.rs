//! Lean HTTP/1.1 POSTs for webhooks: a kept-alive connection per origin, the whole request in
//! one write, the answer's head read with `httparse`, one deadline per attempt. Addresses follow
//! `outbound`'s rule (public only, unless the host is allowed); https through rustls with the
//! system's roots. No redirects: a 3xx is an answer like any other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The longest answer head read (status line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// Answer bodies up to this are read and dropped, keeping the connection; longer ones close it.
const MAX_BODY: usize = 64 * 1024;
/// An idle connection older than this is closed rather than reused.
const IDLE_FOR: Duration = Duration::from_secs(30);
/// Idle connections kept per origin.
const IDLE_PER_ORIGIN: usize = 4;

/// Why a POST got no answer.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("timed out")]
    Timeout,
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("request failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("request failed: {0}")]
    Protocol(String),
    /// The connection closed before any byte of an answer.
    #[error("request failed: the connection closed before an answer")]
    Closed,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Where a connection goes.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Origin {
    tls: bool,
    /// Without brackets, for resolving and TLS.
    host: String,
    port: u16,
}

struct Conn {
    io: Box<dyn Stream>,
    buf: Vec<u8>,
    idle_since: Instant,
}

/// What an answer's head says.
struct Head {
    status: u16,
    /// Bytes of the head in the buffer.
    len: usize,
    /// The body's length, when it is known and may be read to keep the connection.
    body: Option<usize>,
    keep_alive: bool,
}

/// Sends POSTs, keeping connections between them.
pub struct Poster {
    allowed: Vec<String>,
    timeout: Duration,
    user_agent: String,
    tls: TlsConnector,
    idle: Mutex<HashMap<Origin, Vec<Conn>>>,
}

impl Poster {
    /// A poster trusting the system's root certificates.
    pub fn new(
        allowed: &[String],
        timeout: Duration,
        user_agent: &str,
    ) -> Result<Self, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            log::warn!("loading the system's root certificates: {e}");
        }
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        log::debug!("webhook TLS: {added} root certificates ({ignored} unusable)");
        Self::with_roots(allowed, timeout, user_agent, roots)
    }

    /// A poster trusting `roots` only.
    pub fn with_roots(
        allowed: &[String],
        timeout: Duration,
        user_agent: &str,
        roots: rustls::RootCertStore,
    ) -> Result<Self, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Poster {
            allowed: allowed.to_vec(),
            timeout,
            user_agent: user_agent.to_owned(),
            tls: TlsConnector::from(Arc::new(config)),
            idle: Mutex::new(HashMap::new()),
        })
    }

    /// POSTs `body` with `headers` to `url` (http or https, checked by the caller); answers the
    /// status, whatever it is.
    pub async fn post(
        &self,
        url: &reqwest::Url,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<u16, PostError> {
        let origin = origin_of(url)?;
        let request = self.request(url, headers, body)?;
        tokio::time::timeout(self.timeout, self.exchange(&origin, &request))
            .await
            .map_err(|_| PostError::Timeout)?
    }

    /// On an idle connection when there is one (a fresh one if it turns out closed), else on a
    /// fresh one.
    async fn exchange(&self, origin: &Origin, request: &[u8]) -> Result<u16, PostError> {
        if let Some(mut conn) = self.take_idle(origin) {
            match conn.round_trip(request).await {
                Err(PostError::Closed) => {}
                answer => return self.keep(origin, conn, answer),
            }
        }
        let mut conn = self.connect(origin).await?;
        let answer = conn.round_trip(request).await;
        self.keep(origin, conn, answer)
    }

    /// Puts `conn` back when its answer left it reusable; answers the status.
    fn keep(
        &self,
        origin: &Origin,
        mut conn: Conn,
        answer: Result<(u16, bool), PostError>,
    ) -> Result<u16, PostError> {
        let (status, reusable) = answer?;
        if reusable {
            conn.idle_since = Instant::now();
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.retain(|_, list| {
                list.retain(|c| c.idle_since.elapsed() < IDLE_FOR);
                !list.is_empty()
            });
            let list = idle.entry(origin.clone()).or_default();
            if list.len() < IDLE_PER_ORIGIN {
                list.push(conn);
            }
        }
        Ok(status)
    }

    fn take_idle(&self, origin: &Origin) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(origin)?;
        while let Some(conn) = list.pop() {
            if conn.idle_since.elapsed() < IDLE_FOR {
                return Some(conn);
            }
        }
        None
    }

    /// A new connection to a permitted address of `origin`.
    async fn connect(&self, origin: &Origin) -> Result<Conn, PostError> {
        let addrs = super::permitted_addrs(&origin.host, origin.port, &self.allowed)
            .await
            .map_err(|e| PostError::Connect(e.to_string()))?;
        let mut last = String::new();
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(tcp) => return self.open(origin, tcp).await,
                Err(e) => last = e.to_string(),
            }
        }
        Err(PostError::Connect(last))
    }

    /// `tcp` ready for requests: TLS on top for https.
    async fn open(&self, origin: &Origin, tcp: TcpStream) -> Result<Conn, PostError> {
        tcp.set_nodelay(true)?;
        let io: Box<dyn Stream> = if origin.tls {
            let name = ServerName::try_from(origin.host.clone())
                .map_err(|e| PostError::Connect(format!("TLS name: {e}")))?;
            let tls = self.tls.connect(name, tcp).await;
            Box::new(tls.map_err(|e| PostError::Connect(format!("TLS: {e}")))?)
        } else {
            Box::new(tcp)
        };
        Ok(Conn {
            io,
            buf: Vec::with_capacity(1024),
            idle_since: Instant::now(),
        })
    }

    /// The request's bytes; a header name or value with a line break is refused.
    fn request(
        &self,
        url: &reqwest::Url,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<u8>, PostError> {
        let mut target = url.path().to_owned();
        if let Some(q) = url.query() {
            target = format!("{target}?{q}");
        }
        let host = url.host_str().unwrap_or_default();
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let mut out = Vec::with_capacity(320 + body.len());
        let head = format!(
            "POST {target} HTTP/1.1\r\nhost: {host}{port}\r\nuser-agent: {}\r\ncontent-length: {}\r\n",
            self.user_agent,
            body.len()
        );
        out.extend_from_slice(head.as_bytes());
        for (name, value) in headers {
            if [name, value].iter().any(|s| s.contains(['\r', '\n'])) {
                return Err(PostError::Protocol(format!(
                    "header {name:?} has a line break"
                )));
            }
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        Ok(out)
    }
}

fn origin_of(url: &reqwest::Url) -> Result<Origin, PostError> {
    let tls = match url.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(PostError::Protocol(format!("{other} is not http(s)"))),
    };
    let host = url
        .host_str()
        .ok_or_else(|| PostError::Protocol("the URL has no host".into()))?;
    Ok(Origin {
        tls,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port: url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 }),
    })
}

impl Conn {
    /// Writes `request`, reads the answer's head (past any 1xx) and a short body; answers the
    /// status and whether the connection may carry another request.
    async fn round_trip(&mut self, request: &[u8]) -> Result<(u16, bool), PostError> {
        self.buf.clear();
        let sent = async {
            self.io.write_all(request).await?;
            self.io.flush().await
        };
        sent.await.map_err(closed_or)?;
        let head = loop {
            let head = self.read_head().await?;
            if (100..200).contains(&head.status) && head.status != 101 {
                self.buf.drain(..head.len);
                continue;
            }
            break head;
        };
        let Some(body) = head.body.filter(|&n| n <= MAX_BODY) else {
            return Ok((head.status, false));
        };
        let end = head.len + body;
        while self.buf.len() < end {
            if self.fill().await? == 0 {
                return Ok((head.status, false));
            }
        }
        let reusable = head.keep_alive && head.status != 101 && self.buf.len() == end;
        Ok((head.status, reusable))
    }

    async fn read_head(&mut self) -> Result<Head, PostError> {
        loop {
            if let Some(head) = parse_head(&self.buf)? {
                return Ok(head);
            }
            if self.buf.len() >= MAX_HEAD {
                return Err(PostError::Protocol(format!(
                    "an answer head over {MAX_HEAD} bytes"
                )));
            }
            let read = match self.fill().await {
                Err(PostError::Io(e)) if self.buf.is_empty() => return Err(closed_or(e)),
                read => read?,
            };
            if read == 0 {
                return Err(if self.buf.is_empty() {
                    PostError::Closed
                } else {
                    PostError::Protocol("the connection closed within the answer's head".into())
                });
            }
        }
    }

    /// Reads what has arrived into the buffer; answers how much (0: closed).
    async fn fill(&mut self) -> Result<usize, PostError> {
        self.buf.reserve(4096);
        Ok(self.io.read_buf(&mut self.buf).await?)
    }
}

/// `Closed` for the errors of a connection the peer had already closed (as a kept one may be),
/// else the error.
fn closed_or(e: std::io::Error) -> PostError {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    match e.kind() {
        BrokenPipe | ConnectionReset | ConnectionAborted | UnexpectedEof => PostError::Closed,
        _ => PostError::Io(e),
    }
}

/// The head at the start of `buf`, if it is all there.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, PostError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut answer = httparse::Response::new(&mut headers);
    let len = match answer.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(PostError::Protocol(format!("a malformed answer: {e}"))),
    };
    let status = answer.code.unwrap_or_default();
    let mut keep_alive = answer.version == Some(1);
    let mut length = None;
    let mut chunked = false;
    for h in answer.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or_default().trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        } else if h.name.eq_ignore_ascii_case("connection") {
            keep_alive &= !value.eq_ignore_ascii_case("close");
        }
    }
    let body = match status {
        100..=199 | 204 | 304 => Some(0),
        _ if chunked => None,
        _ => length,
    };
    Ok(Some(Head {
        status,
        len,
        body,
        keep_alive,
    }))
}

#[cfg(test)]
mod tests;
