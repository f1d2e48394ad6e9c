-- Moderation and room control (issue 17): the audit log, pins, blocks and reports.

-- Every moderation and administrative action: who, what, when, the room, before/after. Written
-- in the transaction of the action; append-only (no route edits it, and an UPDATE fails).
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    actor_id    UUID NOT NULL,
    action      TEXT NOT NULL CHECK (char_length(action) BETWEEN 1 AND 64),
    room_id     UUID,
    target_id   UUID,
    before      JSONB,
    after       JSONB,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_room ON audit_log (room_id, id DESC) WHERE room_id IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Pinned messages of a room (the cap is limits.max_pins_per_room).
CREATE TABLE pins (
    room_id     UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    message_id  UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    pinned_by   UUID NOT NULL,
    pinned_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, message_id)
);

-- Who blocks whom (private to the blocker).
CREATE TABLE user_blocks (
    blocker_id  UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id  UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX user_blocks_blocked ON user_blocks (blocked_id);

-- Messages reported by members, for the tenant's admins.
CREATE TABLE reports (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    room_id      UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    message_id   UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    reporter_id  UUID NOT NULL,
    reason       TEXT NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
    status       TEXT NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'dismissed', 'message_deleted', 'user_banned')),
    resolved_by  UUID,
    resolved_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'open') = (resolved_at IS NULL))
);
-- One open report per member and message.
CREATE UNIQUE INDEX reports_open_once ON reports (message_id, reporter_id) WHERE status = 'open';
CREATE INDEX reports_tenant ON reports (tenant_id, created_at DESC, id);

-- Pins are room events.
ALTER TABLE room_events DROP CONSTRAINT room_events_kind_check;
ALTER TABLE room_events ADD CONSTRAINT room_events_kind_check CHECK (kind IN
    ('new_message', 'message_updated', 'message_deleted', 'reaction_added',
     'reaction_removed', 'read_receipt', 'member_joined', 'member_left',
     'member_updated', 'room_updated', 'message_pinned', 'message_unpinned'));
