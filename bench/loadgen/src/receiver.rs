//! The bench's webhook endpoint (`loadgen receive --port P`): HTTP/1.1 with keep-alive, answers
//! every POST at once with 204 and counts it; a GET answers the count. It reads each request's
//! headers and `Content-Length` body and nothing more, so what it costs the machine is small
//! beside the server it measures (the Python `http.server` it replaced took ~0.2 ms of CPU a
//! request, on the same two cores as the server).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::Error;

#[derive(clap::Args)]
pub struct ReceiveArgs {
    /// The port to listen on (127.0.0.1).
    #[arg(long)]
    pub port: u16,
}

pub async fn run(args: ReceiveArgs) -> Result<(), Error> {
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    let count = Arc::new(AtomicU64::new(0));
    loop {
        let (stream, _) = listener.accept().await?;
        let count = count.clone();
        tokio::spawn(async move {
            let _ = serve(stream, &count).await;
        });
    }
}

/// One connection: request after request until the peer closes it.
async fn serve(mut stream: TcpStream, count: &AtomicU64) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    loop {
        let Some(end) = headers_end(&mut stream, &mut buf).await? else {
            return Ok(());
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length = content_length(&head);
        while buf.len() < end + length {
            if read_more(&mut stream, &mut buf).await? == 0 {
                return Ok(());
            }
        }
        buf.drain(..end + length);
        let answer = if head.starts_with("post") {
            count.fetch_add(1, Ordering::Relaxed);
            "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n".to_owned()
        } else {
            let n = count.load(Ordering::Relaxed).to_string();
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{n}", n.len())
        };
        stream.write_all(answer.as_bytes()).await?;
    }
}

/// Reads until the buffer holds a whole header block; answers where it ends (None: closed).
async fn headers_end(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<usize>, Error> {
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some(i + 4));
        }
        if buf.len() > 64 * 1024 || read_more(stream, buf).await? == 0 {
            return Ok(None);
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<usize, Error> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
