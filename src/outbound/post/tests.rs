//! The poster against receivers on loopback sockets: plain and TLS, answers of every shape the
//! sender must survive, connections kept, replaced and refused.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{PostError, Poster};

const CA: &[u8] = include_bytes!("../../../tests/fixtures/tls/ca.pem");
const CERT: &[u8] = include_bytes!("../../../tests/fixtures/tls/localhost.pem");
const KEY: &[u8] = include_bytes!("../../../tests/fixtures/tls/localhost.key");

/// How the test receiver answers each request.
#[derive(Clone, Copy)]
enum Answer {
    /// These bytes, keeping the connection.
    Bytes(&'static [u8]),
    /// These bytes, then it closes the connection (without saying so).
    ThenClose(&'static [u8]),
    /// Nothing, ever.
    Silent,
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    requests: Mutex<Vec<(String, Vec<u8>)>>,
}

/// A receiver on 127.0.0.1 (TLS with the fixture certificate when `tls`); answers its URL.
async fn receiver(answer: Answer, tls: bool) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Seen::default());
    let acceptor = tls.then(server_tls);
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            s.connections.fetch_add(1, Ordering::SeqCst);
            let s = s.clone();
            match &acceptor {
                Some(a) => {
                    if let Ok(io) = a.accept(tcp).await {
                        tokio::spawn(serve(io, answer, s));
                    }
                }
                None => {
                    tokio::spawn(serve(tcp, answer, s));
                }
            }
        }
    });
    let scheme = if tls {
        "https://localhost"
    } else {
        "http://127.0.0.1"
    };
    (format!("{scheme}:{port}/hooks/in?x=1"), seen)
}

fn server_tls() -> tokio_rustls::TlsAcceptor {
    let certs = vec![CertificateDer::from_pem_slice(CERT).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// Reads requests (head and content-length body) and answers each as told.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, answer: Answer, seen: Arc<Seen>) {
    let mut buf = Vec::new();
    loop {
        let (head_len, body_len, head) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            if let Ok(httparse::Status::Complete(n)) = req.parse(&buf) {
                let len = req
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .map(|h| std::str::from_utf8(h.value).unwrap().parse().unwrap())
                    .unwrap_or(0usize);
                break (n, len, String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            let mut chunk = [0u8; 4096];
            match io.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(k) => buf.extend_from_slice(&chunk[..k]),
            }
        };
        while buf.len() < head_len + body_len {
            let mut chunk = [0u8; 4096];
            match io.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(k) => buf.extend_from_slice(&chunk[..k]),
            }
        }
        let body = buf[head_len..head_len + body_len].to_vec();
        buf.drain(..head_len + body_len);
        seen.requests.lock().unwrap().push((head, body));
        match answer {
            Answer::Bytes(b) => io.write_all(b).await.unwrap(),
            Answer::ThenClose(b) => {
                io.write_all(b).await.unwrap();
                let _ = io.shutdown().await;
                return;
            }
            Answer::Silent => {}
        }
    }
}

fn poster(timeout_ms: u64) -> Poster {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CA).unwrap())
        .unwrap();
    let allowed = ["127.0.0.1".to_owned(), "localhost".to_owned()];
    Poster::with_roots(&allowed, Duration::from_millis(timeout_ms), "test/1", roots).unwrap()
}

/// A poster trusting no certificate, allowing only `allowed` private hosts.
fn untrusting(allowed: &[&str]) -> Poster {
    let allowed: Vec<String> = allowed.iter().map(|h| h.to_string()).collect();
    let roots = rustls::RootCertStore::empty();
    Poster::with_roots(&allowed, Duration::from_secs(5), "test/1", roots).unwrap()
}

async fn post(p: &Poster, url: &str) -> Result<u16, PostError> {
    let url = reqwest::Url::parse(url).unwrap();
    let headers = [
        ("webhook-id", "msg_1"),
        ("content-type", "application/json"),
    ];
    p.post(&url, &headers, br#"{"type":"x"}"#).await
}

#[tokio::test]
async fn posts_share_one_connection_and_arrive_whole() {
    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    let (url, seen) = receiver(Answer::Bytes(ok), false).await;
    let p = poster(5_000);
    for _ in 0..3 {
        assert_eq!(post(&p, &url).await.unwrap(), 200);
    }
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    let requests = seen.requests.lock().unwrap();
    assert_eq!(requests.len(), 3);
    let (head, body) = &requests[2];
    let port = url.split(':').nth(2).unwrap().split('/').next().unwrap();
    assert!(
        head.starts_with("POST /hooks/in?x=1 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains(&format!("host: 127.0.0.1:{port}\r\n")),
        "{head}"
    );
    assert!(head.contains("webhook-id: msg_1\r\n"), "{head}");
    assert!(head.contains("user-agent: test/1\r\n"), "{head}");
    assert_eq!(body, br#"{"type":"x"}"#);
}

#[tokio::test]
async fn a_connection_the_receiver_closed_is_replaced() {
    let ok = b"HTTP/1.1 204 No Content\r\n\r\n";
    let (url, seen) = receiver(Answer::ThenClose(ok), false).await;
    let p = poster(5_000);
    assert_eq!(post(&p, &url).await.unwrap(), 204);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(post(&p, &url).await.unwrap(), 204);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 2);
    assert_eq!(seen.requests.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_chunked_failure_is_its_status_and_its_connection_is_not_kept() {
    let bad = b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n4\r\noops\r\n0\r\n\r\n";
    let (url, seen) = receiver(Answer::Bytes(bad), false).await;
    let p = poster(5_000);
    assert_eq!(post(&p, &url).await.unwrap(), 500);
    assert_eq!(post(&p, &url).await.unwrap(), 500);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn interim_answers_are_skipped_and_close_is_honoured() {
    let ok = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    let (url, seen) = receiver(Answer::Bytes(ok), false).await;
    let p = poster(5_000);
    assert_eq!(post(&p, &url).await.unwrap(), 202);
    assert_eq!(post(&p, &url).await.unwrap(), 202);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_silent_receiver_times_out() {
    let (url, seen) = receiver(Answer::Silent, false).await;
    let p = poster(300);
    assert!(matches!(post(&p, &url).await, Err(PostError::Timeout)));
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_malformed_or_endless_answer_is_an_error() {
    let (url, _) = receiver(Answer::Bytes(b"nonsense\r\n\r\n"), false).await;
    let e = post(&poster(5_000), &url).await.unwrap_err();
    assert!(e.to_string().contains("malformed answer"), "{e}");
    static LONG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let long = LONG.get_or_init(|| {
        let mut v = b"HTTP/1.1 200 OK\r\nx-pad: ".to_vec();
        v.resize(20_000, b'a');
        v
    });
    let (url, _) = receiver(Answer::Bytes(long), false).await;
    let e = post(&poster(5_000), &url).await.unwrap_err();
    assert!(e.to_string().contains("answer head over"), "{e}");
}

#[tokio::test]
async fn private_addresses_need_the_host_allowed_and_headers_cannot_break_lines() {
    let (url, seen) = receiver(Answer::Bytes(b"HTTP/1.1 200 OK\r\n\r\n"), false).await;
    let e = post(&untrusting(&[]), &url).await.unwrap_err();
    assert!(matches!(e, PostError::Connect(_)), "{e}");
    let u = reqwest::Url::parse(&url).unwrap();
    let e = poster(5_000)
        .post(&u, &[("x", "a\r\nevil: 1")], b"")
        .await
        .unwrap_err();
    assert!(matches!(e, PostError::Protocol(_)), "{e}");
    assert_eq!(seen.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn https_to_a_trusted_certificate_keeps_its_connection_and_an_unknown_one_is_refused() {
    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
    let (url, seen) = receiver(Answer::Bytes(ok), true).await;
    let p = poster(5_000);
    assert_eq!(post(&p, &url).await.unwrap(), 200);
    assert_eq!(post(&p, &url).await.unwrap(), 200);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    let e = post(&untrusting(&["localhost"]), &url).await.unwrap_err();
    assert!(e.to_string().contains("TLS"), "{e}");
}
