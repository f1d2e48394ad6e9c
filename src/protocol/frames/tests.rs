//! Every frame round-trips through serde; client frames parse with their aliases and errors.

use super::*;
use crate::protocol::views::*;
use chrono::{TimeZone, Utc};

fn t() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap()
}

fn message() -> MessageView {
    MessageView {
        id: Uuid::from_u128(7),
        room_id: Uuid::from_u128(2),
        seq: 3,
        sender: SenderView {
            id: Uuid::from_u128(1),
            display_name: "Ann".into(),
        },
        message_type: "text".into(),
        content: "hi @bob".into(),
        attachment: None,
        reply_to: None,
        reply_count: 0,
        reactions: vec![ReactionSummary {
            emoji: "👍".into(),
            count: 1,
            user_ids: vec![Uuid::from_u128(1)],
        }],
        mentions: vec![Uuid::from_u128(9)],
        metadata: None,
        client_id: Some("c1".into()),
        created_at: t(),
        edited_at: None,
        is_deleted: false,
        pinned: false,
        link_preview: None,
    }
}

fn member() -> MemberView {
    MemberView {
        user: UserView {
            id: Uuid::from_u128(1),
            username: Some("ann".into()),
            display_name: "Ann".into(),
            avatar_url: None,
        },
        role: "member".into(),
        joined_at: t(),
        last_read_seq: 0,
        archived: false,
        muted: false,
    }
}

fn room() -> RoomView {
    RoomView {
        id: Uuid::from_u128(2),
        tenant_id: Uuid::from_u128(1),
        name: "r".into(),
        description: String::new(),
        room_type: "group".into(),
        external_ref: Some(ExternalRef {
            kind: "course".into(),
            id: "42".into(),
        }),
        created_by: None,
        created_at: t(),
        updated_at: t(),
        last_message_at: None,
        last_seq: 0,
        is_active: true,
        max_participants: None,
        member_count: 1,
        last_message: None,
        unread_count: None,
        mention_count: None,
        my_role: None,
        archived: None,
        muted: None,
        other_user: None,
        notify: None,
        muted_until: None,
    }
}

#[test]
fn every_server_frame_round_trips() {
    let r = Uuid::from_u128(2);
    let u = Uuid::from_u128(1);
    let frames = vec![
        ServerFrame::ConnectionEstablished {
            user_id: u,
            tenant_id: u,
            session_id: r,
            heartbeat_secs: 25,
            server_time: "x".into(),
        },
        ServerFrame::ack(
            Some("a".into()),
            AckBody {
                message: Some(message()),
                room_id: Some(r),
                seq: Some(3),
                ..Default::default()
            },
        ),
        ServerFrame::ack(
            None,
            AckBody {
                room: Some(room()),
                ..Default::default()
            },
        ),
        ServerFrame::error(Some("e".into()), &AppError::NotFound),
        ServerFrame::NewMessage {
            room_id: r,
            seq: 3,
            message: message(),
        },
        ServerFrame::MessageUpdated {
            room_id: r,
            seq: 4,
            message: message(),
        },
        ServerFrame::MessageDeleted {
            room_id: r,
            seq: 5,
            message_id: u,
        },
        ServerFrame::ReactionAdded {
            room_id: r,
            seq: 6,
            reaction: ReactionView {
                message_id: u,
                user_id: u,
                emoji: "🎉".into(),
                created_at: t(),
            },
        },
        ServerFrame::ReactionRemoved {
            room_id: r,
            seq: 7,
            message_id: u,
            user_id: u,
            emoji: "🎉".into(),
        },
        ServerFrame::ReadReceipt {
            room_id: r,
            seq: 8,
            user_id: u,
            last_read_seq: 7,
        },
        ServerFrame::MemberJoined {
            room_id: r,
            seq: 9,
            member: member(),
        },
        ServerFrame::MemberLeft {
            room_id: r,
            seq: 10,
            user_id: u,
        },
        ServerFrame::MemberUpdated {
            room_id: r,
            seq: 11,
            member: member(),
        },
        ServerFrame::RoomUpdated {
            room_id: r,
            seq: 12,
            room: Box::new(room()),
        },
        ServerFrame::TypingIndicator {
            room_id: r,
            user_id: u,
            is_typing: true,
        },
        ServerFrame::PresenceUpdate {
            presence: PresenceView {
                user_id: u,
                status: "away".into(),
                last_seen: Some(t()),
                current_room: None,
            },
        },
        ServerFrame::Mention {
            room_id: r,
            message: message(),
        },
        ServerFrame::Resumed {
            room_id: r,
            last_seq: 12,
        },
        ServerFrame::ResyncRequired {
            room_id: r,
            last_seq: 12,
        },
        ServerFrame::ResumeRequired { room_id: r },
        ServerFrame::RoomAdded {
            room: Box::new(room()),
        },
        ServerFrame::Pong,
        ServerFrame::Closing {
            reason: "slow_consumer".into(),
            retry_after_ms: None,
        },
        ServerFrame::Closing {
            reason: "shutdown".into(),
            retry_after_ms: Some(1500),
        },
    ];
    for f in frames {
        let text = f.to_text();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], f.kind(), "{text}");
        let back: ServerFrame = serde_json::from_str(&text).unwrap();
        assert_eq!(back, f, "{text}");
    }
}

#[test]
fn every_client_frame_round_trips_and_aliases_are_accepted() {
    let r = Uuid::from_u128(2);
    let m = Uuid::from_u128(3);
    let frames = vec![
        ClientFrame::JoinRoom { room_id: r },
        ClientFrame::LeaveRoom { room_id: r },
        ClientFrame::SendMessage(SendFields {
            room_id: r,
            content: "hi".into(),
            message_type: Some("text".into()),
            reply_to: Some(m),
            attachment_id: None,
            metadata: None,
            client_id: Some("c".into()),
        }),
        ClientFrame::EditMessage {
            message_id: m,
            content: "x".into(),
            room_id: None,
        },
        ClientFrame::DeleteMessage {
            message_id: m,
            room_id: Some(r),
        },
        ClientFrame::StartTyping { room_id: r },
        ClientFrame::StopTyping { room_id: r },
        ClientFrame::AddReaction {
            message_id: m,
            emoji: "👍".into(),
            room_id: None,
            toggle: false,
        },
        ClientFrame::RemoveReaction {
            message_id: m,
            emoji: "👍".into(),
            room_id: None,
        },
        ClientFrame::MarkRead {
            room_id: r,
            seq: Some(4),
            message_id: None,
            message_ids: None,
        },
        ClientFrame::UpdatePresence {
            status: "away".into(),
            current_room: None,
        },
        ClientFrame::Resume {
            rooms: vec![ResumeRoom {
                room_id: r,
                after_seq: 3,
            }],
        },
        ClientFrame::Ping,
        ClientFrame::SetNotify {
            room_id: r,
            notify: Some("all".into()),
            muted: Some(false),
            muted_until: Some(serde_json::Value::Null),
        },
        ClientFrame::SetNotify {
            room_id: r,
            notify: None,
            muted: None,
            muted_until: Some("2030-01-01T00:00:00Z".into()),
        },
    ];
    for f in frames {
        let text = serde_json::to_string(&f).unwrap();
        let (_, back) = parse_client_frame(&text);
        assert_eq!(back.unwrap(), f, "{text}");
    }
    let (reference, aliased) = parse_client_frame(&format!(
        r#"{{"type":"join_conversation","conversation_id":"{r}","ref":"j1"}}"#
    ));
    assert_eq!(reference.as_deref(), Some("j1"));
    assert_eq!(aliased.unwrap(), ClientFrame::JoinRoom { room_id: r });
}

#[test]
fn a_frame_names_its_room_only_when_it_carries_one() {
    let r = Uuid::from_u128(2);
    let m = Uuid::from_u128(3);
    assert_eq!(
        ClientFrame::MarkRead {
            room_id: r,
            seq: None,
            message_id: None,
            message_ids: None,
        }
        .room_id(),
        Some(r)
    );
    assert_eq!(
        ClientFrame::DeleteMessage {
            message_id: m,
            room_id: None
        }
        .room_id(),
        None
    );
    assert_eq!(
        ClientFrame::DeleteMessage {
            message_id: m,
            room_id: Some(r)
        }
        .room_id(),
        Some(r)
    );
    assert_eq!(ClientFrame::Ping.room_id(), None);
}

#[test]
fn bad_frames_are_bad_requests_that_keep_the_ref() {
    let (reference, e) = parse_client_frame(r#"{"type":"fly","ref":"r9"}"#);
    assert_eq!(reference.as_deref(), Some("r9"));
    assert!(matches!(e, Err(AppError::BadRequest { .. })));
    assert!(matches!(
        parse_client_frame("not json").1,
        Err(AppError::BadRequest { .. })
    ));
    assert!(matches!(
        parse_client_frame("[1]").1,
        Err(AppError::BadRequest { .. })
    ));
    // A missing field is named; a mistyped one is described in the message.
    let (_, e) = parse_client_frame(r#"{"type":"join_room"}"#);
    assert!(matches!(e, Err(AppError::BadRequest { field: Some(ref f), .. }) if f == "room_id"));
    let (_, e) = parse_client_frame(r#"{"type":"join_room","room_id":"nope"}"#);
    assert!(
        matches!(e, Err(AppError::BadRequest { ref message, .. }) if message.contains("invalid frame"))
    );
}
