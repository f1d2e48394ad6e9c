//! Upgrade requests leave actix-http's HTTP/1 dispatcher: the App answers them as before (same
//! routes, auth, origin checks and errors), but a WebSocket's socket is then served here, with
//! no buffer kept while it is idle (the dispatcher keeps an 8 KiB read and an 8 KiB write buffer
//! for the life of a connection). Any other answer to an upgrade request is written, then the
//! connection is closed.

use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use actix_codec::{Encoder, Framed};
use actix_http::body::{BoxBody, MessageBody};
use actix_http::error::PayloadError;
use actix_http::h1::{Codec, Message};
use actix_http::{BoxedPayloadStream, ConnectionType, Payload, Request, Response, StatusCode};
use actix_service::boxed::{BoxService, BoxServiceFactory};
use actix_service::{Service, ServiceFactory};
use actix_web::web::{Bytes, BytesMut};
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use futures_util::Stream;
use tokio::net::TcpStream;

/// The App as the upgrade path calls it: a request in, a whole response out.
pub type AppFactory = BoxServiceFactory<(), Request, Response<BoxBody>, actix_web::Error, ()>;
type AppService = BoxService<Request, Response<BoxBody>, actix_web::Error>;

/// What a closed connection waits at most for the client's end (actix-web's
/// `client_disconnect_timeout`, which the dispatcher uses the same way).
pub const LINGER: Duration = Duration::from_secs(1);

/// At most this much is read from the socket at once (into a buffer on the stack, copied out at
/// its length).
const READ_CHUNK: usize = 8 * 1024;

/// A non-101 answer is written in pieces of about this size.
const WRITE_CHUNK: usize = 64 * 1024;

/// A worker's App service, being built or built: one instance serves both the HTTP/1 dispatcher
/// and the upgrade path (a second instance cost ~3.5 MiB per worker: routes, middleware).
type Built = Shared<LocalBoxFuture<'static, Result<Rc<AppService>, ()>>>;

/// One worker's App service, shared: the factory for the HTTP/1 dispatcher, and the upgrade
/// service's factory. Call once per worker, on the worker (the listener's factory does).
pub fn shared(app: AppFactory) -> (SharedApp, Upgrade) {
    let service = app.new_service(());
    let built: Built = async move { service.await.map(Rc::new) }
        .boxed_local()
        .shared();
    (
        SharedApp {
            built: built.clone(),
        },
        Upgrade { built },
    )
}

/// The App for the HTTP/1 dispatcher (the worker's one instance).
pub struct SharedApp {
    built: Built,
}

impl ServiceFactory<Request> for SharedApp {
    type Response = Response<BoxBody>;
    type Error = actix_web::Error;
    type Config = ();
    type Service = Rc<AppService>;
    type InitError = ();
    type Future = Built;

    fn new_service(&self, _: ()) -> Self::Future {
        self.built.clone()
    }
}

/// The upgrade service's factory (the worker's one App instance).
pub struct Upgrade {
    built: Built,
}

impl ServiceFactory<(Request, Framed<TcpStream, Codec>)> for Upgrade {
    type Response = ();
    type Error = actix_web::Error;
    type Config = ();
    type Service = UpgradeService;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<UpgradeService, ()>>;

    fn new_service(&self, _: ()) -> Self::Future {
        let built = self.built.clone();
        Box::pin(async move { Ok(UpgradeService { app: built.await? }) })
    }
}

/// Serves one upgrade request and, when the App switches protocols, the connection after it.
pub struct UpgradeService {
    app: Rc<AppService>,
}

impl Service<(Request, Framed<TcpStream, Codec>)> for UpgradeService {
    type Response = ();
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<(), actix_web::Error>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.app.poll_ready(cx)
    }

    fn call(&self, (req, framed): (Request, Framed<TcpStream, Codec>)) -> Self::Future {
        let app = self.app.clone();
        Box::pin(async move {
            serve(&app, req, framed).await;
            Ok(())
        })
    }
}

/// Gives the request a payload read straight from the socket, lets the App answer it, writes the
/// answer (and a WebSocket's frames until its body ends), then closes the connection.
async fn serve(app: &AppService, req: Request, framed: Framed<TcpStream, Codec>) {
    let parts = framed.into_parts();
    let codec = parts.codec;
    // What the client sent after the request's head; the dispatcher's buffers go here.
    let early = Bytes::copy_from_slice(&parts.read_buf);
    drop(parts.read_buf);
    drop(parts.write_buf);
    let io = Rc::new(parts.io);
    let payload: BoxedPayloadStream = Box::pin(SocketPayload {
        io: io.clone(),
        early: Some(early).filter(|b| !b.is_empty()),
        ended: false,
    });
    let (req, _) = req.replace_payload(Payload::from(payload));
    let res = app.call(req).await.unwrap_or_else(Response::from);
    let written = if res.status() == StatusCode::SWITCHING_PROTOCOLS {
        relay(&io, codec, res).await
    } else {
        answer(&io, codec, res).await
    };
    if let Err(e) = written {
        log::debug!("upgraded connection: {e}");
    }
    close(&io).await;
}

/// The 101 head, then the body's chunks (a WebSocket's frames) straight to the socket, each
/// asked for once the one before is written: a client that does not read stops the body, and
/// the session's bounded queue behind it fills.
async fn relay(io: &TcpStream, mut codec: Codec, res: Response<BoxBody>) -> io::Result<()> {
    let (head, mut body) = res.into_parts();
    let mut out = BytesMut::new();
    codec.encode(Message::Item((head, body.size())), &mut out)?;
    drop(codec);
    // Frames already waiting (`connection_established`) go out with the head.
    if let Poll::Ready(first) = poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_next(cx))).await {
        match first {
            Some(chunk) => out.extend_from_slice(&chunk.map_err(body_error)?),
            None => return write_all(io, &out).await,
        }
    }
    write_all(io, &out).await?;
    drop(out);
    while let Some(chunk) = poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await {
        write_all(io, &chunk.map_err(body_error)?).await?;
    }
    Ok(())
}

/// Any other answer (401, 403, 404, 429…): head and body, with `Connection: close`.
async fn answer(io: &TcpStream, mut codec: Codec, res: Response<BoxBody>) -> io::Result<()> {
    let (mut head, mut body) = res.into_parts();
    head.head_mut().set_connection_type(ConnectionType::Close);
    let mut out = BytesMut::new();
    codec.encode(Message::Item((head, body.size())), &mut out)?;
    while let Some(chunk) = poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await {
        codec.encode(Message::Chunk(Some(chunk.map_err(body_error)?)), &mut out)?;
        if out.len() >= WRITE_CHUNK {
            write_all(io, &out).await?;
            out.clear();
        }
    }
    codec.encode(Message::Chunk(None), &mut out)?;
    write_all(io, &out).await
}

fn body_error(e: Box<dyn std::error::Error>) -> io::Error {
    io::Error::other(format!("response body: {e}"))
}

async fn write_all(io: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        io.writable().await?;
        match io.try_write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Ends the connection as the dispatcher does, the other way round: our end first (the client
/// has read everything we wrote), then what the client still sends is read and dropped until it
/// closes its end or `LINGER` has passed; then the socket is shut both ways, which also ends a
/// session's reader still waiting on it.
async fn close(io: &TcpStream) {
    let sock = socket2::SockRef::from(io);
    let _ = sock.shutdown(Shutdown::Write);
    let _ = tokio::time::timeout(LINGER, drain(io)).await;
    let _ = sock.shutdown(Shutdown::Both);
}

async fn drain(io: &TcpStream) {
    loop {
        if io.readable().await.is_err() {
            return;
        }
        match read_now(io) {
            Ok(bytes) if bytes.is_empty() => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

/// What the socket has now (empty: the client closed its end). Not async, so the buffer lives
/// on the stack for this call only, never in a connection's future.
fn read_now(io: &TcpStream) -> io::Result<Bytes> {
    let mut buf = [0u8; READ_CHUNK];
    let n = io.try_read(&mut buf)?;
    Ok(Bytes::copy_from_slice(&buf[..n]))
}

/// The request's payload: the bytes that came with the head, then the socket, read when the
/// reader asks (so a session that does not read leaves the bytes in the kernel, and nothing is
/// buffered here).
struct SocketPayload {
    io: Rc<TcpStream>,
    early: Option<Bytes>,
    ended: bool,
}

impl Stream for SocketPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(early) = this.early.take() {
            return Poll::Ready(Some(Ok(early)));
        }
        if this.ended {
            return Poll::Ready(None);
        }
        loop {
            if ready!(this.io.poll_read_ready(cx)).is_err() {
                break;
            }
            match read_now(&this.io) {
                Ok(bytes) if bytes.is_empty() => break,
                Ok(bytes) => return Poll::Ready(Some(Ok(bytes))),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // A reset or other error: the client is gone, as after a close.
                Err(e) => {
                    log::debug!("reading an upgraded connection: {e}");
                    break;
                }
            }
        }
        this.ended = true;
        Poll::Ready(None)
    }
}
