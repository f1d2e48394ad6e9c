ALTER TABLE room_events DROP CONSTRAINT room_events_payload_check;
ALTER TABLE room_events ALTER COLUMN payload TYPE JSONB USING payload::jsonb;
ALTER TABLE room_events ADD CONSTRAINT room_events_payload_check
    CHECK (jsonb_typeof(payload) = 'object');
