DROP TABLE user_presence;
DROP TABLE ws_tickets;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE tenants;
