// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    attachments (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        uploader_id -> Uuid,
        storage_key -> Text,
        file_name -> Text,
        content_type -> Text,
        file_size -> Int8,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        thumbnail_key -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    message_edits (id) {
        id -> Int8,
        message_id -> Uuid,
        previous_content -> Text,
        edited_by -> Uuid,
        edited_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    messages (id) {
        id -> Uuid,
        room_id -> Uuid,
        tenant_id -> Uuid,
        seq -> Int8,
        sender_id -> Uuid,
        message_type -> Text,
        content -> Text,
        attachment_id -> Nullable<Uuid>,
        reply_to -> Nullable<Uuid>,
        reply_count -> Int4,
        mentions -> Array<Nullable<Uuid>>,
        metadata -> Nullable<Jsonb>,
        client_id -> Nullable<Text>,
        created_at -> Timestamptz,
        edited_at -> Nullable<Timestamptz>,
        is_deleted -> Bool,
        deleted_at -> Nullable<Timestamptz>,
        search -> Nullable<Tsvector>,
    }
}

diesel::table! {
    reactions (message_id, user_id, emoji) {
        message_id -> Uuid,
        user_id -> Uuid,
        emoji -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    room_events (room_id, seq) {
        room_id -> Uuid,
        seq -> Int8,
        kind -> Text,
        payload -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    room_members (room_id, user_id) {
        room_id -> Uuid,
        user_id -> Uuid,
        tenant_id -> Uuid,
        role -> Text,
        joined_at -> Timestamptz,
        last_read_seq -> Int8,
        archived -> Bool,
        muted -> Bool,
        left_at -> Nullable<Timestamptz>,
        removed_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    rooms (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        name -> Text,
        description -> Text,
        room_type -> Text,
        external_ref_kind -> Nullable<Text>,
        external_ref_id -> Nullable<Text>,
        direct_key -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_message_at -> Nullable<Timestamptz>,
        last_seq -> Int8,
        is_active -> Bool,
        max_participants -> Nullable<Int4>,
    }
}

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user_presence (user_id) {
        user_id -> Uuid,
        manual_status -> Nullable<Text>,
        current_room -> Nullable<Uuid>,
        last_seen -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        username -> Nullable<Text>,
        email -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        display_name -> Text,
        avatar_url -> Nullable<Text>,
        role -> Text,
        is_banned -> Bool,
        tokens_valid_after -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    ws_tickets (ticket_hash) {
        ticket_hash -> Bytea,
        user_id -> Uuid,
        tenant_id -> Uuid,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(message_edits -> messages (message_id));
diesel::joinable!(message_edits -> users (edited_by));
diesel::joinable!(reactions -> messages (message_id));
diesel::joinable!(reactions -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(room_events -> rooms (room_id));
diesel::joinable!(rooms -> tenants (tenant_id));
diesel::joinable!(rooms -> users (created_by));
diesel::joinable!(user_presence -> users (user_id));
diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(ws_tickets -> tenants (tenant_id));
diesel::joinable!(ws_tickets -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    attachments,
    message_edits,
    messages,
    reactions,
    refresh_tokens,
    room_events,
    room_members,
    rooms,
    tenants,
    user_presence,
    users,
    ws_tickets,
);

// ---- moderation (issue 17): audit log, pins, blocks, reports ----

diesel::table! {
    audit_log (id) {
        id -> Int8,
        tenant_id -> Uuid,
        actor_id -> Uuid,
        action -> Text,
        room_id -> Nullable<Uuid>,
        target_id -> Nullable<Uuid>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    pins (room_id, message_id) {
        room_id -> Uuid,
        message_id -> Uuid,
        pinned_by -> Uuid,
        pinned_at -> Timestamptz,
    }
}

diesel::table! {
    user_blocks (blocker_id, blocked_id) {
        blocker_id -> Uuid,
        blocked_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    reports (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        room_id -> Uuid,
        message_id -> Uuid,
        reporter_id -> Uuid,
        reason -> Text,
        status -> Text,
        resolved_by -> Nullable<Uuid>,
        resolved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(pins -> messages (message_id));
diesel::joinable!(reports -> messages (message_id));

diesel::allow_tables_to_appear_in_same_query!(pins, messages);
diesel::allow_tables_to_appear_in_same_query!(user_blocks, users);

// ---- retention (issue 17) ----

diesel::table! {
    tenant_retention (tenant_id) {
        tenant_id -> Uuid,
        retention_days -> Nullable<Int4>,
    }
}

diesel::table! {
    room_retention (room_id) {
        room_id -> Uuid,
        retention_days -> Nullable<Int4>,
        max_messages -> Nullable<Int4>,
        retained_from_seq -> Int8,
    }
}

// ---- link previews (issue 20) ----

diesel::table! {
    link_preview_cache (url) {
        url -> Text,
        preview -> Nullable<Jsonb>,
        fetched_at -> Timestamptz,
    }
}

diesel::table! {
    message_link_previews (message_id) {
        message_id -> Uuid,
        preview -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(message_link_previews -> messages (message_id));
