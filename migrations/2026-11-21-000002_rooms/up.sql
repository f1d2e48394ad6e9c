-- Rooms and their members.

CREATE TABLE rooms (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name              TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description       TEXT NOT NULL DEFAULT '' CHECK (char_length(description) <= 1000),
    room_type         TEXT NOT NULL CHECK (room_type IN ('direct', 'group', 'channel', 'public')),
    external_ref_kind TEXT CHECK (external_ref_kind ~ '^[a-z0-9_]{1,32}$'),
    external_ref_id   TEXT CHECK (char_length(external_ref_id) BETWEEN 1 AND 128),
    -- "smaller-user-id:larger-user-id" for direct rooms: makes a second room for a pair impossible.
    direct_key        TEXT,
    created_by        UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_message_at   TIMESTAMPTZ,
    -- The seq of the newest committed room event; the next event takes last_seq + 1.
    last_seq          BIGINT NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    is_active         BOOLEAN NOT NULL DEFAULT true,
    max_participants  INTEGER CHECK (max_participants BETWEEN 1 AND 100000),
    UNIQUE (id, tenant_id),
    CHECK ((external_ref_kind IS NULL) = (external_ref_id IS NULL)),
    CHECK ((room_type = 'direct') = (direct_key IS NOT NULL)),
    CHECK (room_type <> 'direct' OR max_participants = 2)
);
CREATE UNIQUE INDEX rooms_tenant_external_ref ON rooms (tenant_id, external_ref_kind, external_ref_id)
    WHERE external_ref_kind IS NOT NULL;
CREATE UNIQUE INDEX rooms_tenant_direct_key ON rooms (tenant_id, direct_key) WHERE direct_key IS NOT NULL;
CREATE INDEX rooms_tenant_public ON rooms (tenant_id) WHERE room_type = 'public' AND is_active;
CREATE INDEX rooms_search ON rooms USING GIN (to_tsvector('simple', name || ' ' || description));

CREATE TABLE room_members (
    room_id        UUID NOT NULL,
    user_id        UUID NOT NULL,
    tenant_id      UUID NOT NULL,
    role           TEXT NOT NULL DEFAULT 'member'
                   CHECK (role IN ('owner', 'admin', 'moderator', 'member', 'observer')),
    joined_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_read_seq  BIGINT NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    archived       BOOLEAN NOT NULL DEFAULT false,
    muted          BOOLEAN NOT NULL DEFAULT false,
    -- Set when the member left or was removed; the row stays so a rejoin keeps its read pointer.
    left_at        TIMESTAMPTZ,
    removed_by     UUID REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (room_id, user_id),
    -- The room and the user must share a tenant.
    FOREIGN KEY (room_id, tenant_id) REFERENCES rooms (id, tenant_id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, tenant_id) REFERENCES users (id, tenant_id) ON DELETE CASCADE,
    CHECK (removed_by IS NULL OR left_at IS NOT NULL)
);
CREATE INDEX room_members_user_active ON room_members (user_id) WHERE left_at IS NULL;
