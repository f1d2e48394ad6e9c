DROP TABLE room_events;
DROP TABLE reactions;
DROP TABLE message_edits;
DROP TABLE messages;
DROP TABLE attachments;
