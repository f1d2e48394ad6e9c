//! A WebSocket whose session starts after the handshake: seed 000 lets a client give its token
//! in its first frame, so the socket is accepted first and its session (or a refusal) is handed
//! to the response body once the token has been read.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_codec::Encoder;
use actix_http::ws::{CloseReason, Codec, Message};
use actix_web::body::{BodyStream, MessageBody};
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::{HttpRequest, HttpResponse};
use bytestring::ByteString;
use futures_util::Stream;
use tokio::sync::oneshot;

use super::{FrameReader, OutboundBody};
use crate::error::{AppError, AppResult};

/// What the socket becomes once its first frame has been read.
pub enum Handover {
    /// The session's queue: the body drains it from now on.
    Session(OutboundBody),
    /// A last text frame, then the close frame.
    Refuse {
        text: ByteString,
        reason: CloseReason,
    },
}

/// Answers the handshake now: the response, the reader of the client's frames, and where to
/// hand the session (or the refusal) over. Until then nothing is written.
pub fn accept_deferred(
    req: &HttpRequest,
    payload: Payload,
    max_message: usize,
) -> AppResult<(HttpResponse, FrameReader, oneshot::Sender<Handover>)> {
    let (tx, rx) = oneshot::channel();
    let mut response = actix_http::ws::handshake(req.head())
        .map_err(|e| AppError::bad_request_plain(format!("not a WebSocket handshake: {e}")))?;
    let body = DeferredBody {
        waiting: Some(rx),
        session: None,
    };
    let response = response
        .message_body(BodyStream::new(body).boxed())
        .map_err(AppError::internal)?;
    Ok((response.into(), FrameReader::new(payload, max_message), tx))
}

struct DeferredBody {
    waiting: Option<oneshot::Receiver<Handover>>,
    session: Option<OutboundBody>,
}

fn refusal(text: Option<ByteString>, reason: Option<CloseReason>) -> Bytes {
    let mut codec = Codec::new();
    let mut buf = BytesMut::new();
    let frames = text
        .map(Message::Text)
        .into_iter()
        .chain([Message::Close(reason)]);
    for frame in frames {
        if let Err(e) = codec.encode(frame, &mut buf) {
            log::error!("encoding a WebSocket frame: {e}");
        }
    }
    buf.freeze()
}

impl Stream for DeferredBody {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(session) = this.session.as_mut() {
            return Pin::new(session).poll_next(cx);
        }
        let Some(waiting) = this.waiting.as_mut() else {
            return Poll::Ready(None);
        };
        let handover = match Pin::new(waiting).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(h) => h,
        };
        this.waiting = None;
        match handover {
            Ok(Handover::Session(body)) => {
                let session = this.session.insert(body);
                Pin::new(session).poll_next(cx)
            }
            Ok(Handover::Refuse { text, reason }) => {
                Poll::Ready(Some(Ok(refusal(Some(text), Some(reason)))))
            }
            // The client went away before its first frame.
            Err(_) => Poll::Ready(Some(Ok(refusal(None, None)))),
        }
    }
}
