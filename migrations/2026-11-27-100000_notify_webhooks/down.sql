DROP TABLE notification_marks;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
ALTER TABLE room_members DROP COLUMN notify, DROP COLUMN muted_until, DROP COLUMN notified_seq;
