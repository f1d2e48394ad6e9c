//! Seeds 000/002's multiplexed socket, `/ws/chat/{tenant_id}/`: Confab's native socket (000's
//! client frames are native frames or their aliases: `join_conversation`, `conversation_id`),
//! with 000's fields added to what the server sends (`connection_established {message,
//! timestamp}`, a message's `conversation`, `sender_id`, `file_url`, `file_name`, `file_size`,
//! an error's `message`), a `send_message`'s `file_url` read as the upload it names, and 000's
//! token in the first frame when the handshake carries none.

use std::sync::Arc;
use std::time::Duration;

use actix_http::ws::{CloseCode, CloseReason};
use actix_web::{web, HttpRequest, HttpResponse};
use bytestring::ByteString;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::messages::file_of;
use super::views::ChatMessage;
use crate::actors::session::Prepared;
use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::protocol::frames::{frame_kind, ServerFrame};
use crate::routes::ws::{self, Dialect};
use crate::state::AppState;
use crate::transport::{self, FrameReader, Handover, Incoming, Translate};

/// The translation of a multiplexed socket (it holds nothing per connection).
pub struct Frames;

/// What 000's clients read, beside the native fields.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum SeedFrame {
    ConnectionEstablished {
        message: &'static str,
        user_id: Uuid,
        tenant_id: Uuid,
        session_id: Uuid,
        heartbeat_secs: u64,
        server_time: String,
        timestamp: String,
    },
    NewMessage {
        room_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
        message: Box<ChatMessage>,
    },
    MessageUpdated {
        room_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
        message: Box<ChatMessage>,
    },
    Mention {
        room_id: Uuid,
        conversation_id: Uuid,
        message: Box<ChatMessage>,
    },
    Error {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// What a Channels consumer sends: the reason as text.
        message: String,
        error: ErrorBody,
    },
}

/// Frames whose shape 000 extends; every other frame goes out as it is.
const EXTENDED: [&str; 5] = [
    "connection_established",
    "new_message",
    "message_updated",
    "mention",
    "error",
];

fn seed_frame(frame: ServerFrame) -> Option<SeedFrame> {
    let chat = |m| Box::new(ChatMessage::from(m));
    Some(match frame {
        ServerFrame::ConnectionEstablished {
            user_id,
            tenant_id,
            session_id,
            heartbeat_secs,
            server_time,
        } => SeedFrame::ConnectionEstablished {
            message: "Connected to chat service",
            user_id,
            tenant_id,
            session_id,
            heartbeat_secs,
            timestamp: server_time.clone(),
            server_time,
        },
        ServerFrame::NewMessage {
            room_id,
            seq,
            message,
        } => SeedFrame::NewMessage {
            room_id,
            conversation_id: room_id,
            seq,
            message: chat(message),
        },
        ServerFrame::MessageUpdated {
            room_id,
            seq,
            message,
        } => SeedFrame::MessageUpdated {
            room_id,
            conversation_id: room_id,
            seq,
            message: chat(message),
        },
        ServerFrame::Mention { room_id, message } => SeedFrame::Mention {
            room_id,
            conversation_id: room_id,
            message: chat(message),
        },
        ServerFrame::Error { reference, error } => SeedFrame::Error {
            reference,
            message: error.message.clone(),
            error,
        },
        _ => return None,
    })
}

impl Translate for Frames {
    fn inbound(&self, text: &str) -> String {
        if !text.contains("file_url") && !text.contains("auth") {
            return text.to_owned();
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(frame)) => Value::Object(native(frame)).to_string(),
            _ => text.to_owned(),
        }
    }

    fn outbound(&self, text: &str) -> Option<ByteString> {
        let extended = frame_kind(text).is_some_and(|k| EXTENDED.contains(&k.as_ref()));
        let seed = extended
            .then(|| serde_json::from_str::<ServerFrame>(text).ok())
            .flatten()
            .and_then(seed_frame)
            .and_then(|f| serde_json::to_string(&f).ok());
        Some(ByteString::from(seed.unwrap_or_else(|| text.to_owned())))
    }
}

/// A 000 client frame as the native one: `authenticate` (the token again) is a `ping`; a
/// `send_message`'s `file_url` is the `attachment_id` of the upload it names.
fn native(mut frame: Map<String, Value>) -> Map<String, Value> {
    let kind = frame
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match kind {
        "authenticate" | "auth" => {
            frame.insert("type".into(), "ping".into());
            frame.remove("token");
        }
        "send_message" if !frame.contains_key("attachment_id") => {
            let url = frame.get("file_url").and_then(Value::as_str);
            match file_of(url) {
                Ok(Some(id)) => {
                    frame.insert("attachment_id".into(), id.to_string().into());
                }
                Ok(None) => {}
                // The session refuses the frame by this name, saying why.
                Err(e) => {
                    frame.insert("type".into(), format!("send_message ({e})").into());
                }
            }
        }
        _ => {}
    }
    frame
}

/// `/ws/chat/{tenant_id}/` of an authenticated caller of that tenant.
pub async fn tenant(
    state: &AppState,
    req: &HttpRequest,
    body: web::Payload,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let dialect = Dialect {
        translate: Arc::new(Frames),
        first_frames: Vec::new(),
    };
    ws::start(state, req, body, user, Some(dialect)).await
}

/// `/ws/chat/{tenant_id}/` without a token in the handshake: accepted when the id is a tenant's
/// (else 401, as any socket without a token), then the first frame must bring the token
/// (`{"type": "authenticate", "token": …}`, or any frame with a `token`) within
/// `auth.ws_ticket_ttl_secs`; otherwise an `error` frame and close 1008.
pub async fn first_frame(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    tenant_id: Uuid,
) -> AppResult<HttpResponse> {
    let known = {
        let mut conn = state.pool.get().await?;
        crate::db::tenants::find(&mut conn, &tenant_id.to_string()).await?
    };
    if known.is_none() {
        return Err(AppError::Unauthorized("missing token or ticket".into()));
    }
    let max = state.settings.limits.max_frame_bytes;
    let (response, reader, handover) = transport::accept_deferred(&req, body, max)?;
    actix_web::rt::spawn(authenticate_then_run(state, reader, handover, tenant_id));
    Ok(response)
}

/// The client's first text frame (None when it left first).
async fn first_text(reader: &mut FrameReader) -> Option<String> {
    loop {
        match reader.next().await? {
            Ok(Incoming::Text(text)) => return Some(text.to_string()),
            Ok(Incoming::Ping(_) | Incoming::Pong) => continue,
            Ok(Incoming::Binary) => return Some(String::new()),
            Ok(Incoming::Close) | Err(_) => return None,
        }
    }
}

/// The user a first frame's token names, and the rest of the frame when it was more than the
/// token (`join_conversation` with a `token`, say).
async fn frame_user(
    state: &AppState,
    text: &str,
    tenant_id: Uuid,
) -> AppResult<(AuthUser, Option<String>)> {
    let missing = || {
        AppError::Unauthorized(
            "the first frame must carry the token: {\"type\": \"authenticate\", \"token\": \"<jwt>\"}"
                .into(),
        )
    };
    let Ok(Value::Object(mut frame)) = serde_json::from_str::<Value>(text) else {
        return Err(missing());
    };
    let Some(Value::String(token)) = frame.remove("token") else {
        return Err(missing());
    };
    let user = ws::token_user(state, &token).await?;
    if user.tenant_id != tenant_id {
        return Err(AppError::NotFound);
    }
    let only_auth = matches!(
        frame.get("type").and_then(Value::as_str),
        Some("authenticate" | "auth")
    );
    let rest = (!only_auth).then(|| Frames.inbound(&Value::Object(frame).to_string()));
    Ok((user, rest))
}

async fn authenticate_then_run(
    state: web::Data<AppState>,
    mut reader: FrameReader,
    handover: oneshot::Sender<Handover>,
    tenant_id: Uuid,
) {
    let wait = Duration::from_secs(state.settings.auth.ws_ticket_ttl_secs.unsigned_abs());
    let first = match tokio::time::timeout(wait, first_text(&mut reader)).await {
        Ok(Some(text)) => frame_user(&state, &text, tenant_id).await,
        Ok(None) => return,
        Err(_) => Err(AppError::Unauthorized(format!(
            "no token within {} s",
            wait.as_secs()
        ))),
    };
    let started = match first {
        Ok((user, rest)) => run(&state, user, reader, rest).await,
        Err(e) => Err(e),
    };
    let handed = match started {
        Ok(body) => Handover::Session(body),
        Err(e) => refusal(&e),
    };
    // The client may have gone meanwhile: nothing is waiting then.
    let _ = handover.send(handed);
}

/// The session of a user authenticated by the first frame: what its body drains.
async fn run(
    state: &AppState,
    user: AuthUser,
    reader: FrameReader,
    first: Option<String>,
) -> AppResult<transport::OutboundBody> {
    let translate: Arc<dyn Translate> = Arc::new(Frames);
    let (prepared, outbound) = Prepared::new(
        state.settings.limits.max_outbound_queue,
        &user,
        state.settings.realtime.heartbeat_secs,
    );
    let outbound = outbound.translated(translate.clone());
    let first_frames = first.into_iter().collect();
    ws::begin(state, prepared, user, reader, Some(translate), first_frames).await?;
    Ok(outbound)
}

/// An `error` frame in 000's shape, then close 1008 (policy).
fn refusal(e: &AppError) -> Handover {
    let frame = ServerFrame::error(None, e);
    let text = seed_frame(frame)
        .and_then(|f| serde_json::to_string(&f).ok())
        .unwrap_or_default();
    Handover::Refuse {
        text: ByteString::from(text),
        reason: CloseReason {
            code: CloseCode::Policy,
            description: Some(e.code().to_owned()),
        },
    }
}
