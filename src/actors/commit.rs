//! The commit path: the writes of many rooms applied in one transaction (each room locked, each
//! change given its room's next seq), with the rows of plain sends written in bulk at the end.

use std::collections::HashMap;
use std::sync::Arc;

use bytestring::ByteString;
use chrono::{DateTime, SubsecRound, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::room::{NewPost, Outcome, WriteOp};
use super::{frame_text, Actor as Caller};
use crate::config::Settings;
use crate::db::models::{Message, Room};
use crate::db::writes::{EventRow, RoomSeq};
use crate::db::{self, DbPool};
use crate::domain::{self, role_rank};
use crate::error::{is_unique_violation, AppError, AppResult};
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::{
    summarize_reactions, MemberView, MessageView, ReactionView, RoomView,
};

/// The room's members and their roles, as the actor knows them.
pub(super) type Members = Arc<HashMap<Uuid, MemberInfo>>;

#[derive(Debug, Clone)]
pub(super) struct MemberInfo {
    pub(super) role: String,
    pub(super) username: Option<String>,
}

/// One room's writes, as its actor hands them over.
pub(super) struct BatchInput {
    pub(super) room: Room,
    pub(super) members: Members,
    pub(super) ops: Vec<(Caller, WriteOp)>,
    pub(super) settings: Arc<Settings>,
}

/// What a room's batch came to: each write's result, and the room after it.
pub(super) type Committed = (Vec<AppResult<Applied>>, Room);

pub(super) enum MemberChange {
    Joined(Uuid, MemberInfo),
    Left(Uuid),
    Role(Uuid, String),
}

/// A committed room event: its seq, wire name and frame.
pub(super) struct Event {
    pub(super) seq: i64,
    pub(super) kind: &'static str,
    pub(super) text: ByteString,
}

#[derive(Default)]
pub(super) struct Applied {
    pub(super) outcome: Outcome,
    pub(super) event: Option<Event>,
    pub(super) mentions: Vec<Uuid>,
    pub(super) mention_frame: Option<ByteString>,
    pub(super) member_change: Option<MemberChange>,
}

/// The working state of one batch inside its transaction.
struct Batch<'a> {
    room: Room,
    members: Members,
    seq: i64,
    last_message_at: Option<DateTime<Utc>>,
    settings: &'a Settings,
}

impl Batch<'_> {
    /// Takes the next seq for `frame` (built with that seq).
    fn event(&mut self, build: impl FnOnce(i64) -> ServerFrame) -> Event {
        self.seq += 1;
        let frame = build(self.seq);
        Event {
            seq: self.seq,
            kind: frame.kind(),
            text: frame_text(&frame),
        }
    }

    fn rank(&self, caller: &Caller) -> u8 {
        if caller.is_trusted() {
            6
        } else {
            self.members
                .get(&caller.user_id)
                .map(|m| role_rank(&m.role))
                .unwrap_or(0)
        }
    }

    fn owners(&self) -> usize {
        self.members.values().filter(|m| m.role == "owner").count()
    }
}

/// Commits the batches of several rooms (each room at most once) in one transaction: all of them
/// or none. The first try assumes no client_id was sent before (the database says when one was:
/// the transaction is then rolled back and tried again with the client_ids looked up). Retried
/// once more when another node raced it to a unique key.
pub(super) async fn commit(pool: &DbPool, inputs: &[&BatchInput]) -> AppResult<Vec<Committed>> {
    let mut attempt = 0;
    let mut look_up = false;
    loop {
        let mut conn = pool.get().await?;
        let result = conn
            .transaction::<_, diesel::result::Error, _>(async |c| {
                apply_all(c, inputs, look_up).await
            })
            .await;
        match result {
            Ok(r) => return Ok(r),
            Err(diesel::result::Error::RollbackTransaction) if !look_up => look_up = true,
            Err(e) if attempt == 0 && is_unique_violation(&e) => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A (room, sender, client_id) key.
type ClientKey = (Uuid, Uuid, String);

/// Where a message known by its client_id is.
enum Known {
    /// Stored before this transaction (found by the lookup of a retry).
    Stored(Box<Message>),
    /// Sent in this transaction: its index in `Shared::sent`.
    Sent(usize),
}

/// What the batches of one transaction share: the messages known by client_id, and the new
/// messages in the order they were sent (those from `written` on are not in the database yet).
struct Shared {
    known: HashMap<ClientKey, Known>,
    sent: Vec<Message>,
    written: usize,
}

impl Shared {
    fn find(&self, key: &ClientKey) -> Option<&Message> {
        match self.known.get(key)? {
            Known::Stored(m) => Some(m.as_ref()),
            Known::Sent(i) => self.sent.get(*i),
        }
    }

    /// The new messages not written yet.
    fn unsaved(&self) -> &[Message] {
        &self.sent[self.written..]
    }

    /// Writes the new messages (before anything reads messages, and at the end).
    async fn flush(&mut self, c: &mut db::Conn) -> diesel::QueryResult<()> {
        if !self.unsaved().is_empty() {
            let written = db::writes::write_all(c, self.unsaved(), &[], &[]).await?;
            all_written(written, self.unsaved().len())?;
            self.written = self.sent.len();
        }
        Ok(())
    }
}

/// A message not written was a resend of a client_id the transaction did not look up: roll back
/// (and try again with the lookup).
fn all_written(written: usize, expected: usize) -> diesel::QueryResult<()> {
    if written == expected {
        Ok(())
    } else {
        Err(diesel::result::Error::RollbackTransaction)
    }
}

async fn apply_all(
    c: &mut db::Conn,
    inputs: &[&BatchInput],
    look_up: bool,
) -> diesel::QueryResult<Vec<Committed>> {
    // Rooms are locked in id order, so two transactions never wait for each other in a circle.
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| inputs[i].room.id);
    let ids: Vec<Uuid> = order.iter().map(|&i| inputs[i].room.id).collect();
    let locked: HashMap<Uuid, (i64, bool)> = db::rooms::lock_many(c, &ids)
        .await?
        .into_iter()
        .map(|(id, seq, active)| (id, (seq, active)))
        .collect();
    // Resends are rare: only when asked, one lookup of every key, and the messages of those found.
    let found = if look_up {
        db::writes::sent_with(c, &client_ids(inputs)).await?
    } else {
        Vec::new()
    };
    let known = if found.is_empty() {
        HashMap::new()
    } else {
        db::messages::by_ids(c, &found)
            .await?
            .into_iter()
            .filter_map(|m| {
                let cid = m.client_id.clone()?;
                Some(((m.room_id, m.sender_id, cid), Known::Stored(Box::new(m))))
            })
            .collect()
    };
    let mut shared = Shared {
        known,
        sent: Vec::new(),
        written: 0,
    };
    let mut done: Vec<Option<Committed>> = (0..inputs.len()).map(|_| None).collect();
    let mut seqs = Vec::new();
    for &i in &order {
        let input = inputs[i];
        let Some(&(base, active)) = locked.get(&input.room.id) else {
            return Err(diesel::result::Error::NotFound);
        };
        let (out, room, moved) = apply_batch(c, input, base, active, &mut shared).await?;
        if moved {
            seqs.push(RoomSeq {
                room_id: room.id,
                last_seq: room.last_seq,
                last_message_at: room.last_message_at,
            });
        }
        done[i] = Some((out, room));
    }
    let events: Vec<EventRow<'_>> = done
        .iter()
        .flatten()
        .flat_map(|(out, room)| {
            out.iter()
                .filter_map(|a| a.as_ref().ok().and_then(|a| a.event.as_ref()))
                .map(move |e| EventRow {
                    room_id: room.id,
                    seq: e.seq,
                    kind: e.kind,
                    json: &e.text,
                })
        })
        .collect();
    // The new messages, the events and the rooms' seqs: one statement.
    let written = db::writes::write_all(c, shared.unsaved(), &events, &seqs).await?;
    all_written(written, shared.unsaved().len())?;
    Ok(done.into_iter().flatten().collect())
}

/// The (room, sender, client_id) of every send in `inputs` that carries a client_id.
fn client_ids<'a>(inputs: &[&'a BatchInput]) -> Vec<(Uuid, Uuid, &'a str)> {
    inputs
        .iter()
        .flat_map(|input| {
            input.ops.iter().filter_map(|(caller, op)| match op {
                WriteOp::Send(NewPost {
                    client_id: Some(cid),
                    ..
                }) => Some((input.room.id, caller.user_id, cid.as_str())),
                _ => None,
            })
        })
        .collect()
}

/// Applies one room's writes; answers what each came to, the room after them, and whether its
/// seq moved (the event rows and the room's new seq are written by the caller).
async fn apply_batch(
    c: &mut db::Conn,
    input: &BatchInput,
    base: i64,
    active: bool,
    shared: &mut Shared,
) -> diesel::QueryResult<(Vec<AppResult<Applied>>, Room, bool)> {
    let mut b = Batch {
        room: Room {
            last_seq: base,
            is_active: active,
            ..input.room.clone()
        },
        members: Arc::clone(&input.members),
        seq: base,
        last_message_at: None,
        settings: &input.settings,
    };
    let mut out = Vec::with_capacity(input.ops.len());
    for (caller, op) in &input.ops {
        let mut applied = apply_one(c, &mut b, shared, caller, op).await?;
        if let Ok(a) = &mut applied {
            a.outcome.last_seq = b.seq;
            if a.outcome.seq.is_none() {
                a.outcome.seq = a.event.as_ref().map(|e| e.seq);
            }
        }
        out.push(applied);
    }
    let moved = b.seq > base;
    b.room.last_seq = b.seq;
    if let Some(at) = b.last_message_at {
        b.room.last_message_at = Some(at);
    }
    Ok((out, b.room, moved))
}

/// One write: checks against the database (errors leave nothing written), then writes.
async fn apply_one(
    c: &mut db::Conn,
    b: &mut Batch<'_>,
    shared: &mut Shared,
    caller: &Caller,
    op: &WriteOp,
) -> diesel::QueryResult<AppResult<Applied>> {
    let room_id = b.room.id;
    if let WriteOp::Send(post) = op {
        return send(c, b, shared, caller, post).await;
    }
    // Every other write reads messages: the new ones must be there.
    shared.flush(c).await?;
    Ok(match op {
        WriteOp::Send(_) => unreachable!("handled above"),
        WriteOp::Edit {
            message_id,
            content,
        } => {
            let Some(m) = db::messages::find_for_update(c, room_id, *message_id).await? else {
                return Ok(Err(AppError::NotFound));
            };
            if m.is_deleted {
                return Ok(Err(AppError::Conflict("the message was deleted".into())));
            }
            if m.sender_id != caller.user_id {
                return Ok(Err(AppError::Forbidden(
                    "only the sender edits a message".into(),
                )));
            }
            let window = b.settings.limits.edit_window_secs;
            if window > 0 && (Utc::now() - m.created_at).num_seconds() > window {
                return Ok(Err(AppError::Forbidden(
                    "the edit window has passed".into(),
                )));
            }
            if content.is_empty() && m.attachment_id.is_none() {
                return Ok(Err(AppError::bad_request(
                    "content",
                    "content must not be empty",
                )));
            }
            if *content == m.content {
                let view = message_view(c, &m, &caller.display_name).await?;
                return Ok(Ok(Applied {
                    outcome: Outcome {
                        message: Some(view),
                        ..Default::default()
                    },
                    ..Default::default()
                }));
            }
            let now = Utc::now();
            db::messages::insert_edit(c, m.id, &m.content, caller.user_id, now).await?;
            let edited = db::messages::set_content(c, m.id, content, now).await?;
            let view = message_view(c, &edited, &caller.display_name).await?;
            let v = view.clone();
            let event = b.event(|seq| ServerFrame::MessageUpdated {
                room_id,
                seq,
                message: v,
            });
            Ok(Applied {
                outcome: Outcome {
                    message: Some(view),
                    ..Default::default()
                },
                event: Some(event),
                ..Default::default()
            })
        }
        WriteOp::Delete { message_id } => {
            let Some(m) = db::messages::find_for_update(c, room_id, *message_id).await? else {
                return Ok(Err(AppError::NotFound));
            };
            if m.sender_id != caller.user_id && b.rank(caller) < 3 {
                return Ok(Err(AppError::Forbidden(
                    "only the sender or a moderator deletes a message".into(),
                )));
            }
            if m.is_deleted {
                return Ok(Ok(Applied::default()));
            }
            db::messages::tombstone(c, m.id, Utc::now()).await?;
            let id = m.id;
            let event = b.event(|seq| ServerFrame::MessageDeleted {
                room_id,
                seq,
                message_id: id,
            });
            Ok(Applied {
                event: Some(event),
                ..Default::default()
            })
        }
        WriteOp::React {
            message_id,
            emoji,
            add,
        } => {
            let Some(m) = db::messages::find_in_room(c, room_id, *message_id).await? else {
                return Ok(Err(AppError::NotFound));
            };
            if m.is_deleted {
                return Ok(Err(AppError::Conflict("the message was deleted".into())));
            }
            let user_id = caller.user_id;
            let event = if *add {
                db::messages::add_reaction(c, m.id, user_id, emoji)
                    .await?
                    .map(|created_at| {
                        let reaction = ReactionView {
                            message_id: m.id,
                            user_id,
                            emoji: emoji.clone(),
                            created_at,
                        };
                        b.event(|seq| ServerFrame::ReactionAdded {
                            room_id,
                            seq,
                            reaction,
                        })
                    })
            } else if db::messages::remove_reaction(c, m.id, user_id, emoji).await? > 0 {
                Some(b.event(|seq| ServerFrame::ReactionRemoved {
                    room_id,
                    seq,
                    message_id: m.id,
                    user_id,
                    emoji: emoji.clone(),
                }))
            } else {
                None
            };
            Ok(Applied {
                event,
                ..Default::default()
            })
        }
        WriteOp::MarkRead { seq } => {
            let target = match seq {
                Some(s) if *s < 0 => {
                    return Ok(Err(AppError::bad_request("seq", "seq must be >= 0")))
                }
                Some(s) => (*s).min(b.seq),
                None => b.seq,
            };
            let user_id = caller.user_id;
            let moved = db::rooms::move_read_forward(c, room_id, user_id, target).await?;
            let pointer = match moved {
                Some(p) => p,
                None => match db::rooms::membership(c, room_id, user_id).await? {
                    Some(m) => m.last_read_seq,
                    None => return Ok(Err(AppError::NotFound)),
                },
            };
            let event = moved.map(|p| {
                b.event(|seq| ServerFrame::ReadReceipt {
                    room_id,
                    seq,
                    user_id,
                    last_read_seq: p,
                })
            });
            let (unread, mentions) = db::messages::unread(c, room_id, user_id, pointer).await?;
            Ok(Applied {
                outcome: Outcome {
                    last_read_seq: Some(pointer),
                    unread_count: Some(unread),
                    mention_count: Some(mentions),
                    ..Default::default()
                },
                event,
                ..Default::default()
            })
        }
        WriteOp::AddMember { user_id, role } => {
            let Some(user) = db::users::find_in_tenant(c, b.room.tenant_id, *user_id).await? else {
                return Ok(Err(AppError::NotFound));
            };
            if user.role == "service" {
                return Ok(Err(AppError::bad_request(
                    "user_id",
                    "service accounts do not join rooms",
                )));
            }
            if b.members.contains_key(user_id) {
                return Ok(Err(AppError::Conflict("already a member".into())));
            }
            let max = b
                .room
                .max_participants
                .unwrap_or(b.settings.limits.max_room_members) as usize;
            if b.members.len() >= max {
                return Ok(Err(AppError::Conflict("the room is full".into())));
            }
            let role = if *user_id == caller.user_id && !caller.is_trusted() {
                "member"
            } else {
                role
            };
            let m = db::rooms::upsert_member(c, &b.room, *user_id, role).await?;
            let view = MemberView::build(&m, &user);
            let v = view.clone();
            let event = b.event(|seq| ServerFrame::MemberJoined {
                room_id,
                seq,
                member: v,
            });
            let info = MemberInfo {
                role: role.to_owned(),
                username: user.username.clone(),
            };
            Arc::make_mut(&mut b.members).insert(*user_id, info.clone());
            Ok(Applied {
                outcome: Outcome {
                    member: Some(view),
                    ..Default::default()
                },
                event: Some(event),
                member_change: Some(MemberChange::Joined(*user_id, info)),
                ..Default::default()
            })
        }
        WriteOp::RemoveMember { user_id } => {
            let Some(target) = b.members.get(user_id) else {
                return Ok(Err(AppError::NotFound));
            };
            if target.role == "owner" && b.owners() == 1 {
                return Ok(Err(AppError::Conflict(
                    "the last owner must hand ownership over first".into(),
                )));
            }
            db::rooms::remove_member(c, room_id, *user_id, caller.user_id).await?;
            Arc::make_mut(&mut b.members).remove(user_id);
            let uid = *user_id;
            let event = b.event(|seq| ServerFrame::MemberLeft {
                room_id,
                seq,
                user_id: uid,
            });
            Ok(Applied {
                event: Some(event),
                member_change: Some(MemberChange::Left(uid)),
                ..Default::default()
            })
        }
        WriteOp::SetRole { user_id, role } => {
            let Some(target) = b.members.get(user_id) else {
                return Ok(Err(AppError::NotFound));
            };
            if target.role == "owner" && *role != "owner" && b.owners() == 1 {
                return Ok(Err(AppError::Conflict(
                    "the last owner must hand ownership over first".into(),
                )));
            }
            if target.role == *role {
                return Ok(Ok(Applied::default()));
            }
            let m = db::rooms::set_role(c, room_id, *user_id, role).await?;
            let Some(user) = db::users::find(c, *user_id).await? else {
                return Ok(Err(AppError::NotFound));
            };
            let view = MemberView::build(&m, &user);
            let v = view.clone();
            let event = b.event(|seq| ServerFrame::MemberUpdated {
                room_id,
                seq,
                member: v,
            });
            if let Some(t) = Arc::make_mut(&mut b.members).get_mut(user_id) {
                t.role = role.to_string();
            }
            Ok(Applied {
                outcome: Outcome {
                    member: Some(view),
                    ..Default::default()
                },
                event: Some(event),
                member_change: Some(MemberChange::Role(*user_id, role.to_string())),
                ..Default::default()
            })
        }
        WriteOp::UpdateRoom {
            name,
            description,
            max_participants,
            is_active,
        } => {
            let patch = db::rooms::RoomPatch {
                name: name.as_deref(),
                description: description.as_deref(),
                max_participants: *max_participants,
                is_active: *is_active,
            };
            let updated = db::rooms::update(c, room_id, &patch).await?;
            b.room = Room {
                last_seq: b.seq,
                last_message_at: b.room.last_message_at,
                ..updated
            };
            let mut view = RoomView::build(&b.room, b.members.len() as i64);
            view.last_seq = b.seq + 1;
            let v = view.clone();
            let event = b.event(|seq| ServerFrame::RoomUpdated {
                room_id,
                seq,
                room: Box::new(v),
            });
            Ok(Applied {
                outcome: Outcome {
                    room: Some(view),
                    ..Default::default()
                },
                event: Some(event),
                ..Default::default()
            })
        }
    })
}

async fn send(
    c: &mut db::Conn,
    b: &mut Batch<'_>,
    shared: &mut Shared,
    caller: &Caller,
    post: &NewPost,
) -> diesel::QueryResult<AppResult<Applied>> {
    let room_id = b.room.id;
    let key = post
        .client_id
        .as_ref()
        .map(|cid| (room_id, caller.user_id, cid.clone()));
    if let Some(key) = &key {
        if let Some(first) = shared.find(key) {
            let same = first.content == post.content
                && first.reply_to == post.reply_to
                && first.attachment_id == post.attachment_id;
            if !same {
                return Ok(Err(AppError::Conflict(
                    "client_id was already used for a different message".into(),
                )));
            }
            let view = message_view(c, first, &caller.display_name).await?;
            return Ok(Ok(Applied {
                outcome: Outcome {
                    seq: Some(first.seq),
                    message: Some(view),
                    duplicate: true,
                    ..Default::default()
                },
                ..Default::default()
            }));
        }
    }
    if post.reply_to.is_some() || post.attachment_id.is_some() {
        shared.flush(c).await?;
    }
    if let Some(parent) = post.reply_to {
        if db::messages::find_in_room(c, room_id, parent)
            .await?
            .is_none()
        {
            return Ok(Err(AppError::unknown(
                "reply_to",
                "reply_to is not a message of this room",
            )));
        }
    }
    let attachment = match post.attachment_id {
        Some(id) => {
            match db::messages::own_attachment(c, b.room.tenant_id, caller.user_id, id).await? {
                Some(a) => Some(a),
                None => return Ok(Err(AppError::NotFound)),
            }
        }
        None => None,
    };
    // The file decides the type of a message that carries one.
    let message_type = match &attachment {
        Some(a) if post.message_type != "system" => kind_of(&a.content_type),
        _ => post.message_type,
    };
    if attachment.is_none() && matches!(message_type, "image" | "file" | "audio" | "video") {
        return Ok(Err(AppError::bad_request(
            "attachment_id",
            format!("a {message_type} message needs an attachment_id"),
        )));
    }
    let mentions: Vec<Uuid> = domain::mentioned_usernames(&post.content)
        .iter()
        .filter_map(|name| {
            b.members
                .iter()
                .find(|(_, m)| m.username.as_deref() == Some(name.as_str()))
                .map(|(id, _)| *id)
        })
        .filter(|id| *id != caller.user_id)
        .collect();
    // Microseconds: what the database keeps, so the ack and a later read agree.
    let now = Utc::now().trunc_subsecs(6);
    let m = Message {
        id: Uuid::new_v4(),
        room_id,
        tenant_id: b.room.tenant_id,
        seq: b.seq + 1,
        sender_id: caller.user_id,
        message_type: message_type.to_owned(),
        content: post.content.clone(),
        attachment_id: attachment.as_ref().map(|a| a.id),
        reply_to: post.reply_to,
        reply_count: 0,
        mentions: mentions.iter().map(|m| Some(*m)).collect(),
        metadata: post.metadata.clone(),
        client_id: post.client_id.clone(),
        created_at: now,
        edited_at: None,
        is_deleted: false,
        deleted_at: None,
    };
    if let Some(parent) = post.reply_to {
        db::messages::increment_replies(c, parent).await?;
    }
    b.last_message_at = Some(now);
    let view = MessageView::build(
        &m,
        caller.display_name.clone(),
        Vec::new(),
        attachment.as_ref(),
    );
    if let Some(key) = key {
        shared.known.insert(key, Known::Sent(shared.sent.len()));
    }
    shared.sent.push(m);
    let v = view.clone();
    let event = b.event(|seq| ServerFrame::NewMessage {
        room_id,
        seq,
        message: v,
    });
    let mention_frame = (!mentions.is_empty()).then(|| {
        frame_text(&ServerFrame::Mention {
            room_id,
            message: view.clone(),
        })
    });
    Ok(Ok(Applied {
        outcome: Outcome {
            message: Some(view),
            ..Default::default()
        },
        event: Some(event),
        mentions,
        mention_frame,
        member_change: None,
    }))
}

/// The message type a file's content type makes.
fn kind_of(content_type: &str) -> &'static str {
    match content_type.split('/').next() {
        Some("image") => "image",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "file",
    }
}

/// A stored message as the wire shows it (reactions and attachment loaded).
async fn message_view(
    c: &mut db::Conn,
    m: &Message,
    sender_name: &str,
) -> diesel::QueryResult<MessageView> {
    let reactions = db::messages::reactions_of(c, &[m.id]).await?;
    let attachment = match m.attachment_id {
        Some(id) => db::messages::attachments_by_id(c, &[id])
            .await?
            .into_iter()
            .next(),
        None => None,
    };
    Ok(MessageView::build(
        m,
        sender_name.to_owned(),
        summarize_reactions(&reactions),
        attachment.as_ref(),
    ))
}
