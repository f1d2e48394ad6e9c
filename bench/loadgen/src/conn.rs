//! Dialling WebSockets on loopback: small buffers, the bearer header, and connections spread over
//! several 127.0.0.x source addresses so that more than ~28k of them fit in the port range.

use crate::Error;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TcpStream>;

const DIAL_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Dialer {
    /// The nodes: 0 is `--addr`, 1 is `--addr-b` (cluster).
    servers: Vec<SocketAddr>,
    sources: Vec<Ipv4Addr>,
    next: AtomicUsize,
    config: WebSocketConfig,
}

impl Dialer {
    /// `source_ips` > 1 binds connections round-robin to 127.0.0.1 .. 127.0.0.`source_ips`.
    pub fn new(servers: Vec<SocketAddr>, source_ips: u8, read_buffer: usize) -> Self {
        let sources = if source_ips > 1 {
            (1..=source_ips)
                .map(|i| Ipv4Addr::new(127, 0, 0, i))
                .collect()
        } else {
            Vec::new()
        };
        let config = WebSocketConfig::default()
            .read_buffer_size(read_buffer)
            .write_buffer_size(0)
            .max_message_size(Some(1 << 20))
            .max_frame_size(Some(1 << 20));
        Dialer {
            servers,
            sources,
            next: AtomicUsize::new(0),
            config,
        }
    }

    pub async fn connect(
        &self,
        node: usize,
        path: &str,
        bearer: Option<&str>,
    ) -> Result<Ws, Error> {
        let server = *self
            .servers
            .get(node)
            .ok_or_else(|| format!("no address for node {node}"))?;
        let socket = TcpSocket::new_v4()?;
        if !self.sources.is_empty() {
            let ip = self.sources[self.next.fetch_add(1, Ordering::Relaxed) % self.sources.len()];
            socket.bind(SocketAddr::from((ip, 0)))?;
        }
        let stream = timeout(DIAL_TIMEOUT, socket.connect(server)).await??;
        stream.set_nodelay(true)?;
        let mut request = format!("ws://{server}{path}").into_client_request()?;
        if let Some(token) = bearer {
            request.headers_mut().insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {token}"))?,
            );
        }
        let (ws, _response) = timeout(
            DIAL_TIMEOUT,
            tokio_tungstenite::client_async_with_config(request, stream, Some(self.config)),
        )
        .await??;
        Ok(ws)
    }
}
