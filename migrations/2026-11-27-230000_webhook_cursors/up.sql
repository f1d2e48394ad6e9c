-- Issue 14, ingest with an endpoint at the speed of ingest without: room events are no longer
-- copied into the outbox on the commit path. `room_events` (written in the transaction of each
-- change) is the outbox of room events; each endpoint keeps, per room, the seq up to which it
-- has sent them (or handed a failing one over to `webhook_deliveries` for its retries).
-- `webhook_events`/`webhook_deliveries` keep what is not a room event (`notification`,
-- `room.created`) and the room events whose first attempt failed.
CREATE TABLE webhook_cursors (
    endpoint_id UUID NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    room_id     UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL CHECK (seq >= 0),
    PRIMARY KEY (endpoint_id, room_id)
);
CREATE INDEX webhook_cursors_room ON webhook_cursors (room_id);

-- Endpoints that exist start from where their rooms are now (what the old outbox holds stays
-- there and is delivered as before).
INSERT INTO webhook_cursors (endpoint_id, room_id, seq)
SELECT w.id, r.id, r.last_seq FROM webhook_endpoints w JOIN rooms r ON r.tenant_id = w.tenant_id;
