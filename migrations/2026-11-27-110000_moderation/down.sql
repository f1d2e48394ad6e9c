DELETE FROM room_events WHERE kind IN ('message_pinned', 'message_unpinned');
ALTER TABLE room_events DROP CONSTRAINT room_events_kind_check;
ALTER TABLE room_events ADD CONSTRAINT room_events_kind_check CHECK (kind IN
    ('new_message', 'message_updated', 'message_deleted', 'reaction_added',
     'reaction_removed', 'read_receipt', 'member_joined', 'member_left',
     'member_updated', 'room_updated'));
DROP TABLE reports;
DROP TABLE user_blocks;
DROP TABLE pins;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
