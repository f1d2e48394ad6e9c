DROP TABLE room_retention;
DROP TABLE tenant_retention;
