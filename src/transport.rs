//! The WebSocket transport under a session: inbound frames decoded from the request body
//! (continuations joined, sizes limited), and the response body that drains the session's
//! outbound queue straight into the socket, every frame waiting at that moment in one write.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{CloseReason, Codec, Frame, Item, Message, ProtocolError};
use actix_web::body::{BodyStream, MessageBody};
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::{HttpRequest, HttpResponse};
use bytestring::ByteString;
use futures_util::{Stream, StreamExt};
use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};

// Issue 13, seed 000: sockets whose token comes in their first frame.
mod deferred;
pub use deferred::{accept_deferred, Handover};

// Issue 18: upgrade requests are served outside the HTTP/1 dispatcher.
pub mod upgrade;

/// What a session queues for its socket: text frames and control frames.
#[derive(Debug)]
pub enum Outgoing {
    Text(ByteString),
    Ping,
    Pong(actix_web::web::Bytes),
}

/// What a client sent, a whole message at a time.
#[derive(Debug)]
pub enum Incoming {
    Text(ByteString),
    Binary,
    Ping(Bytes),
    Pong,
    Close,
}

/// Why reading stopped short.
#[derive(Debug)]
pub enum ReadError {
    /// A frame, or a message of several, over the limit.
    TooLarge,
    /// A text message that is not UTF-8.
    NotUtf8,
    /// Anything else the protocol forbids (unmasked frames, a stray continuation, ...).
    Protocol(String),
}

/// Translates one connection's frames between a seed's dialect and the native protocol
/// (`dialects/`); a native connection has none.
pub trait Translate: Send + Sync + 'static {
    /// A client's text frame as the native frame the session reads.
    fn inbound(&self, text: &str) -> String;
    /// A native frame as this connection's client reads it; None: not sent to this client.
    fn outbound(&self, text: &str) -> Option<ByteString>;
}

/// Tells a connection to close: an optional last text frame, then a close frame.
pub struct CloseRequest {
    /// A `closing` frame to send first.
    pub closing: Option<ByteString>,
    pub reason: CloseReason,
}

/// Answers the handshake: the response (whose body is `outbound`) for a WebSocket request, and
/// the reader of what the client sends. A request that is not a WebSocket handshake is a 400.
pub fn accept(
    req: &HttpRequest,
    payload: Payload,
    max_message: usize,
    outbound: OutboundBody,
) -> AppResult<(HttpResponse, FrameReader)> {
    let mut response = actix_http::ws::handshake(req.head())
        .map_err(|e| AppError::bad_request_plain(format!("not a WebSocket handshake: {e}")))?;
    let response = response
        .message_body(BodyStream::new(outbound).boxed())
        .map_err(AppError::internal)?;
    Ok((response.into(), FrameReader::new(payload, max_message)))
}

/// Decodes the client's frames into whole messages.
pub struct FrameReader {
    payload: Payload,
    codec: Codec,
    buf: BytesMut,
    /// A message arriving in continuation frames: (is text, bytes so far).
    partial: Option<(bool, BytesMut)>,
    max: usize,
    translate: Option<Arc<dyn Translate>>,
}

impl FrameReader {
    fn new(payload: Payload, max: usize) -> Self {
        FrameReader {
            payload,
            codec: Codec::new().max_size(max),
            buf: BytesMut::new(),
            partial: None,
            max,
            translate: None,
        }
    }

    /// Text frames are translated from a dialect before the session reads them.
    pub fn translated(mut self, translate: Arc<dyn Translate>) -> Self {
        self.translate = Some(translate);
        self
    }

    /// The next message; None when the client has gone.
    pub async fn next(&mut self) -> Option<Result<Incoming, ReadError>> {
        let item = self.next_native().await;
        match (&self.translate, item) {
            (Some(t), Some(Ok(Incoming::Text(text)))) => {
                Some(Ok(Incoming::Text(t.inbound(&text).into())))
            }
            (_, item) => item,
        }
    }

    async fn next_native(&mut self) -> Option<Result<Incoming, ReadError>> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(frame)) => {
                    if let Some(done) = self.frame(frame) {
                        return Some(done);
                    }
                }
                Ok(None) => match self.payload.next().await {
                    Some(Ok(bytes)) => self.buf.extend_from_slice(&bytes),
                    Some(Err(e)) => return Some(Err(ReadError::Protocol(e.to_string()))),
                    None => return None,
                },
                Err(ProtocolError::Overflow) => return Some(Err(ReadError::TooLarge)),
                Err(e) => return Some(Err(ReadError::Protocol(e.to_string()))),
            }
        }
    }

    /// One frame: a whole message, an error, or None while a message is still arriving.
    fn frame(&mut self, frame: Frame) -> Option<Result<Incoming, ReadError>> {
        let stray = || {
            Some(Err(ReadError::Protocol(
                "unexpected continuation frame".into(),
            )))
        };
        match frame {
            Frame::Text(bytes) => {
                if self.partial.is_some() {
                    return stray();
                }
                Some(text(bytes))
            }
            Frame::Binary(_) => {
                if self.partial.is_some() {
                    return stray();
                }
                Some(Ok(Incoming::Binary))
            }
            Frame::Ping(bytes) => Some(Ok(Incoming::Ping(bytes))),
            Frame::Pong(_) => Some(Ok(Incoming::Pong)),
            Frame::Close(_) => Some(Ok(Incoming::Close)),
            Frame::Continuation(item) => {
                let (first, is_text, bytes, last) = match item {
                    Item::FirstText(b) => (true, true, b, false),
                    Item::FirstBinary(b) => (true, false, b, false),
                    Item::Continue(b) => (false, false, b, false),
                    Item::Last(b) => (false, false, b, true),
                };
                match (&mut self.partial, first) {
                    (None, true) => self.partial = Some((is_text, BytesMut::from(&bytes[..]))),
                    (Some((_, so_far)), false) => {
                        if so_far.len() + bytes.len() > self.max {
                            return Some(Err(ReadError::TooLarge));
                        }
                        so_far.extend_from_slice(&bytes);
                    }
                    _ => return stray(),
                }
                if !last {
                    return None;
                }
                let (is_text, whole) = self.partial.take()?;
                Some(if is_text {
                    text(whole.freeze())
                } else {
                    Ok(Incoming::Binary)
                })
            }
        }
    }
}

fn text(bytes: Bytes) -> Result<Incoming, ReadError> {
    ByteString::try_from(bytes)
        .map(Incoming::Text)
        .map_err(|_| ReadError::NotUtf8)
}

/// The response body of a WebSocket: drains the session's outbound queue. The connection's
/// dispatcher polls it when the socket can take more, so a client that does not read stops the
/// draining and the queue fills (which is how a slow consumer is found).
pub struct OutboundBody {
    rx: mpsc::Receiver<Outgoing>,
    close: Option<oneshot::Receiver<CloseRequest>>,
    codec: Codec,
    buf: BytesMut,
    finished: bool,
    translate: Option<Arc<dyn Translate>>,
}

/// At most this much is encoded for one write.
const WRITE_CHUNK: usize = 64 * 1024;

impl OutboundBody {
    pub fn new(rx: mpsc::Receiver<Outgoing>, close: oneshot::Receiver<CloseRequest>) -> Self {
        OutboundBody {
            rx,
            close: Some(close),
            codec: Codec::new(),
            buf: BytesMut::new(),
            finished: false,
            translate: None,
        }
    }

    /// Text frames are translated into a dialect before they are written.
    pub fn translated(mut self, translate: Arc<dyn Translate>) -> Self {
        self.translate = Some(translate);
        self
    }

    fn encode_text(&mut self, text: ByteString) {
        match self.translate.as_ref().map(|t| t.outbound(&text)) {
            None => self.encode(Message::Text(text)),
            Some(Some(translated)) => self.encode(Message::Text(translated)),
            Some(None) => {}
        }
    }

    fn encode(&mut self, msg: Message) {
        if let Err(e) = self.codec.encode(msg, &mut self.buf) {
            log::error!("encoding a WebSocket frame: {e}");
        }
    }
}

impl Stream for OutboundBody {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        // A close request goes before anything still queued.
        if let Some(close) = this.close.as_mut() {
            if let Poll::Ready(req) = Pin::new(close).poll(cx) {
                this.close = None;
                if let Ok(req) = req {
                    this.buf.clear();
                    if let Some(text) = req.closing {
                        this.encode_text(text);
                    }
                    this.encode(Message::Close(Some(req.reason)));
                    this.finished = true;
                    return Poll::Ready(Some(Ok(this.buf.split().freeze())));
                }
            }
        }
        while this.buf.len() < WRITE_CHUNK {
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(Outgoing::Text(text))) => this.encode_text(text),
                Poll::Ready(Some(Outgoing::Ping)) => this.encode(Message::Ping(Bytes::new())),
                Poll::Ready(Some(Outgoing::Pong(bytes))) => this.encode(Message::Pong(bytes)),
                Poll::Ready(None) => {
                    // The session is gone without a close request: close normally.
                    this.encode(Message::Close(None));
                    this.finished = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        if this.buf.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Some(Ok(this.buf.split().freeze())))
        }
    }
}
