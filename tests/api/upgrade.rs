//! Upgrade requests outside the HTTP/1 dispatcher (issue 18), seen from a raw TCP client: bytes
//! sent with the handshake reach the session, refusals and non-WebSocket answers to an upgrade
//! request close the connection, and a closed WebSocket ends its TCP connection at once.

use std::time::Duration;

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{CloseCode, CloseReason, Codec, Frame, Message};
use bytes::{Bytes, BytesMut};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::helpers::*;

/// A WebSocket handshake for `path` (with a bearer token when given).
fn handshake(port: u16, path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{auth}\r\n"
    )
    .into_bytes()
}

/// A client's (masked) frame.
fn client_frame(msg: Message) -> BytesMut {
    let mut buf = BytesMut::new();
    Codec::new()
        .client_mode()
        .encode(msg, &mut buf)
        .expect("frame encodes");
    buf
}

/// A raw client: what it has read so far, and the socket.
struct Raw {
    io: TcpStream,
    buf: BytesMut,
}

impl Raw {
    async fn connect(port: u16, first: &[u8]) -> Raw {
        let mut io = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        io.write_all(first).await.expect("sent");
        Raw {
            io,
            buf: BytesMut::new(),
        }
    }

    /// Reads more; false once the server has closed its end.
    async fn fill(&mut self) -> bool {
        let read = tokio::time::timeout(Duration::from_secs(5), self.io.read_buf(&mut self.buf));
        read.await
            .expect("the server answers in time")
            .expect("reads")
            > 0
    }

    /// The answer's head (status line and headers), lower-cased.
    async fn head(&mut self) -> String {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = self.buf.split_to(end + 4);
                return String::from_utf8_lossy(&head).to_lowercase();
            }
            assert!(self.fill().await, "closed before the head");
        }
    }

    /// The next WebSocket frame from the server.
    async fn frame(&mut self) -> Frame {
        let mut codec = Codec::new().client_mode().max_size(1 << 20);
        loop {
            if let Some(frame) = codec.decode(&mut self.buf).expect("a valid frame") {
                return frame;
            }
            assert!(self.fill().await, "closed before the next frame");
        }
    }

    async fn text(&mut self) -> Value {
        match self.frame().await {
            Frame::Text(b) => serde_json::from_slice(&b).expect("JSON"),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Everything until the server closes its end (which must come within 5 s).
    async fn rest(&mut self) -> Bytes {
        while self.fill().await {}
        self.buf.split().freeze()
    }
}

#[actix_rt::test]
async fn frames_sent_with_the_handshake_reach_the_session() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    // The head and two frames in one write: they arrive with the request, before the 101.
    let mut first = handshake(app.http.port, "/ws/chat/", Some(&ann.token));
    first.extend_from_slice(&client_frame(Message::Ping(Bytes::from_static(b"early"))));
    first.extend_from_slice(&client_frame(Message::Text(
        r#"{"type":"join_room","room_id":"not-a-uuid","ref":"r1"}"#.into(),
    )));
    let mut raw = Raw::connect(app.http.port, &first).await;
    let head = raw.head().await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    assert_eq!(raw.text().await["type"], "connection_established");
    let mut pong = false;
    let mut error = None;
    while !(pong && error.is_some()) {
        match raw.frame().await {
            Frame::Pong(b) => pong = b == Bytes::from_static(b"early"),
            Frame::Text(b) => {
                let v: Value = serde_json::from_slice(&b).expect("JSON");
                if v["ref"] == "r1" {
                    error = Some(v);
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let error = error.expect("answered");
    assert_eq!(error["type"], "error", "{error}");
}

#[actix_rt::test]
async fn refused_handshakes_and_other_upgrade_requests_are_answered_then_closed() {
    let app = spawn_app().await;
    let port = app.http.port;
    let ann = app.register("ann").await;
    // Unauthorized, a wrong token, another tenant's path: the error shape, then the end.
    for (path, token, status) in [
        ("/ws/chat/".to_owned(), None, "401"),
        ("/ws/chat/".to_owned(), Some("not-a-token"), "401"),
        (
            format!("/ws/chat/{}/", Uuid::new_v4()),
            Some(ann.token.as_str()),
            "404",
        ),
    ] {
        let mut raw = Raw::connect(port, &handshake(port, &path, token)).await;
        let head = raw.head().await;
        assert!(head.starts_with(&format!("http/1.1 {status}")), "{head}");
        assert!(head.contains("connection: close"), "{head}");
        let body: Value = serde_json::from_slice(&raw.rest().await).expect("JSON body");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    // A route that is not a WebSocket, asked to upgrade: its ordinary answer, then the end.
    let mut raw = Raw::connect(port, &handshake(port, "/healthz", None)).await;
    let head = raw.head().await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert!(!raw.rest().await.is_empty());
    // The server still serves ordinary requests and sockets.
    assert_eq!(app.get("/api/chat/rooms", &ann.token).await.status, 200);
    app.ws(&ann.token).await.close().await;
}

#[actix_rt::test]
async fn a_closed_websocket_ends_its_tcp_connection() {
    let app = spawn_app().await;
    let port = app.http.port;
    let ann = app.register("ann").await;
    // The client closes: the server answers with its close frame and ends the connection.
    let mut raw = Raw::connect(port, &handshake(port, "/ws/chat/", Some(&ann.token))).await;
    raw.head().await;
    assert_eq!(raw.text().await["type"], "connection_established");
    let bye = client_frame(Message::Close(Some(CloseReason::from(CloseCode::Normal))));
    raw.io.write_all(&bye).await.expect("sent");
    loop {
        match raw.frame().await {
            Frame::Close(_) => break,
            Frame::Text(_) | Frame::Ping(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    raw.rest().await;
    // The server closes (a frame over the limit: 1009) while the client keeps its end open:
    // the TCP connection ends right after the close frame, not after a timeout.
    let mut raw = Raw::connect(port, &handshake(port, "/ws/chat/", Some(&ann.token))).await;
    raw.head().await;
    assert_eq!(raw.text().await["type"], "connection_established");
    let big = "x".repeat(app.settings.limits.max_frame_bytes + 1);
    raw.io
        .write_all(&client_frame(Message::Text(big.into())))
        .await
        .expect("sent");
    let code = loop {
        match raw.frame().await {
            Frame::Close(reason) => break reason.map(|r| r.code),
            Frame::Text(_) | Frame::Ping(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(code, Some(CloseCode::Size));
    let closing = std::time::Instant::now();
    assert!(raw.rest().await.is_empty(), "nothing after the close frame");
    // Well under the 1 s the server waits for the client's end before dropping the socket.
    let waited = closing.elapsed();
    assert!(waited < Duration::from_millis(500), "{waited:?}");
}
