-- Retention (issue 17): how long a tenant's and a room's messages are kept, a room's cap by
-- count (seed 001's CHAT_MESSAGE_HISTORY_LIMIT), and where each room's retained history starts.

CREATE TABLE tenant_retention (
    tenant_id       UUID PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    -- NULL: forever.
    retention_days  INTEGER CHECK (retention_days BETWEEN 1 AND 36500)
);

CREATE TABLE room_retention (
    room_id            UUID PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    -- NULL: the tenant's.
    retention_days     INTEGER CHECK (retention_days BETWEEN 1 AND 36500),
    -- NULL: no cap by count.
    max_messages       INTEGER CHECK (max_messages BETWEEN 1 AND 100000000),
    -- Messages below this seq were removed by retention (0: none).
    retained_from_seq  BIGINT NOT NULL DEFAULT 0 CHECK (retained_from_seq >= 0)
);
