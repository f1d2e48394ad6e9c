DROP FUNCTION notify_level(TEXT, UUID, TEXT, TEXT, TEXT);
DROP TABLE tenant_notify_defaults;
