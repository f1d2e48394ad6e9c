-- Attachments, messages, their edit history and reactions, and the per-room event log.

CREATE TABLE attachments (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      UUID NOT NULL,
    uploader_id    UUID NOT NULL,
    storage_key    TEXT NOT NULL UNIQUE,
    file_name      TEXT NOT NULL CHECK (char_length(file_name) BETWEEN 1 AND 255
                                        AND strpos(file_name, '/') = 0 AND strpos(file_name, '\') = 0),
    content_type   TEXT NOT NULL CHECK (char_length(content_type) BETWEEN 3 AND 255),
    file_size      BIGINT NOT NULL CHECK (file_size >= 0),
    width          INTEGER CHECK (width > 0),
    height         INTEGER CHECK (height > 0),
    thumbnail_key  TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (id, tenant_id),
    FOREIGN KEY (uploader_id, tenant_id) REFERENCES users (id, tenant_id) ON DELETE CASCADE,
    CHECK ((width IS NULL) = (height IS NULL))
);
CREATE INDEX attachments_uploader ON attachments (uploader_id);

CREATE TABLE messages (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id        UUID NOT NULL,
    tenant_id      UUID NOT NULL,
    seq            BIGINT NOT NULL CHECK (seq >= 1),
    sender_id      UUID NOT NULL,
    message_type   TEXT NOT NULL CHECK (message_type IN
                   ('text', 'emoji', 'image', 'file', 'audio', 'video', 'location', 'system')),
    content        TEXT NOT NULL CHECK (char_length(content) <= 100000),
    attachment_id  UUID,
    reply_to       UUID REFERENCES messages (id) ON DELETE SET NULL,
    reply_count    INTEGER NOT NULL DEFAULT 0 CHECK (reply_count >= 0),
    mentions       UUID[] NOT NULL DEFAULT '{}',
    metadata       JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object'),
    client_id      TEXT CHECK (char_length(client_id) BETWEEN 1 AND 64),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    edited_at      TIMESTAMPTZ,
    is_deleted     BOOLEAN NOT NULL DEFAULT false,
    deleted_at     TIMESTAMPTZ,
    search         TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    UNIQUE (room_id, seq),
    -- A resend with the same client_id finds the first message, also after a restart.
    UNIQUE (room_id, sender_id, client_id),
    FOREIGN KEY (room_id, tenant_id) REFERENCES rooms (id, tenant_id) ON DELETE CASCADE,
    FOREIGN KEY (sender_id, tenant_id) REFERENCES users (id, tenant_id) ON DELETE CASCADE,
    FOREIGN KEY (attachment_id, tenant_id) REFERENCES attachments (id, tenant_id) ON DELETE SET NULL (attachment_id),
    -- A tombstone keeps nothing of what was said.
    CHECK (NOT is_deleted OR (content = '' AND attachment_id IS NULL AND deleted_at IS NOT NULL)),
    CHECK (is_deleted OR char_length(content) >= 1 OR attachment_id IS NOT NULL OR message_type = 'location'),
    CHECK (message_type <> 'location' OR is_deleted OR metadata ? 'lat' AND metadata ? 'lon')
);
CREATE INDEX messages_sender ON messages (sender_id);
CREATE INDEX messages_reply_to ON messages (reply_to, seq) WHERE reply_to IS NOT NULL;
CREATE INDEX messages_attachment ON messages (attachment_id) WHERE attachment_id IS NOT NULL;
CREATE INDEX messages_search ON messages USING GIN (search);
CREATE INDEX messages_mentions ON messages USING GIN (mentions);

CREATE TABLE message_edits (
    id                BIGSERIAL PRIMARY KEY,
    message_id        UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    previous_content  TEXT NOT NULL,
    edited_by         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    edited_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX message_edits_message ON message_edits (message_id, id);

CREATE TABLE reactions (
    message_id  UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL CHECK (char_length(emoji) BETWEEN 1 AND 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id, emoji)
);

-- Every committed room change, in the order it was committed: what `resume` replays.
CREATE TABLE room_events (
    room_id     UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL CHECK (seq >= 1),
    kind        TEXT NOT NULL CHECK (kind IN
                ('new_message', 'message_updated', 'message_deleted', 'reaction_added',
                 'reaction_removed', 'read_receipt', 'member_joined', 'member_left',
                 'member_updated', 'room_updated')),
    -- The event as the wire carries it (without room_id and seq, which are the key).
    payload     JSONB NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, seq)
);
