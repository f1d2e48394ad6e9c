-- The event log keeps each frame's exact text: `resume` replays the bytes that went out live, and
-- the commit path no longer parses every event into JSONB (nothing queries inside a payload).
ALTER TABLE room_events DROP CONSTRAINT room_events_payload_check;
ALTER TABLE room_events ALTER COLUMN payload TYPE TEXT USING payload::text;
ALTER TABLE room_events ADD CONSTRAINT room_events_payload_check
    CHECK (left(payload, 1) = '{' AND right(payload, 1) = '}');
