-- Notifications for people who are not looking, and signed webhooks from a transactional outbox
-- (issue 14).

-- Per member: what to be notified of (NULL = the room type's default: direct `all`, others
-- `mentions`), until when the room is muted, and the seq up to which notifications were decided.
ALTER TABLE room_members
    ADD COLUMN notify       TEXT CHECK (notify IN ('all', 'mentions', 'none')),
    ADD COLUMN muted_until  TIMESTAMPTZ,
    ADD COLUMN notified_seq BIGINT NOT NULL DEFAULT 0 CHECK (notified_seq >= 0);

CREATE TABLE webhook_endpoints (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url            TEXT NOT NULL CHECK (char_length(url) BETWEEN 8 AND 2048),
    events         TEXT[] NOT NULL CHECK (cardinality(events) >= 1),
    description    TEXT NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    -- The raw HMAC key (base64 after `whsec_` on the wire); the previous one signs too until
    -- previous_until (rotation).
    secret         BYTEA NOT NULL CHECK (octet_length(secret) BETWEEN 24 AND 64),
    previous_secret BYTEA,
    previous_until TIMESTAMPTZ,
    enabled        BOOLEAN NOT NULL DEFAULT true,
    -- `failing` once a delivery gave up after the retry window; back to `ok` on a success.
    status         TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'failing')),
    -- A node delivering to this endpoint holds it until then (one sender at a time, in order).
    leased_until   TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);

-- The outbox: one row per event, written in the transaction of the change it describes. Its id
-- is the `webhook-id` (the same on every retry and for every endpoint).
CREATE TABLE webhook_events (
    id          BIGSERIAL PRIMARY KEY,
    msg_id      TEXT NOT NULL UNIQUE,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per (event, endpoint subscribed when it was committed).
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    event_id        BIGINT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    endpoint_id     UUID NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Retries stop webhooks.give_up_after_secs after this (the first attempt, or a manual retry).
    window_start    TIMESTAMPTZ,
    last_error      TEXT,
    last_status     INTEGER,
    delivered_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id DESC);

-- A room with messages whose notifications are still to be decided, and when (the first
-- undecided message's time plus notifications.delay_secs). Written with the message.
CREATE TABLE notification_marks (
    room_id    UUID PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    tenant_id  UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    due_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX notification_marks_due ON notification_marks (due_at);
