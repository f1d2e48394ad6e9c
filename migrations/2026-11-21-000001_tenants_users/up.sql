-- Tenants, users, tokens and presence: who may connect, and to which tenant they belong.

CREATE TABLE tenants (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name        TEXT NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 128),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The single-tenant install's tenant; its id is fixed so configuration can name it.
INSERT INTO tenants (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'default');

CREATE TABLE users (
    id              UUID PRIMARY KEY,
    tenant_id       UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- NULL for users provisioned by a host platform's token that carried no username.
    username        TEXT CHECK (username ~ '^[a-z0-9_.-]{3,32}$'),
    email           TEXT CHECK (email IS NULL OR char_length(email) BETWEEN 3 AND 254),
    password_hash   TEXT,
    display_name    TEXT NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 64),
    avatar_url      TEXT CHECK (avatar_url IS NULL OR char_length(avatar_url) <= 2048),
    role            TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin', 'service')),
    is_banned       BOOLEAN NOT NULL DEFAULT false,
    -- Access tokens issued before this instant are refused (password change, ban, logout-everywhere).
    tokens_valid_after TIMESTAMPTZ NOT NULL DEFAULT to_timestamp(0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Lets other tables pin a row's tenant with a composite foreign key.
    UNIQUE (id, tenant_id)
);
CREATE UNIQUE INDEX users_tenant_username ON users (tenant_id, username) WHERE username IS NOT NULL;
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX users_tenant_display_name ON users (tenant_id, lower(display_name));

CREATE TABLE refresh_tokens (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Every token minted by rotation from one login shares a family; reuse of a rotated token
    -- revokes the whole family.
    family_id   UUID NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    CHECK (expires_at > created_at)
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- One-time WebSocket tickets live in the database so any node behind a load balancer can redeem them.
CREATE TABLE ws_tickets (
    ticket_hash BYTEA PRIMARY KEY CHECK (octet_length(ticket_hash) = 32),
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ws_tickets_expires ON ws_tickets (expires_at);

CREATE TABLE user_presence (
    user_id       UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- The status the user chose; NULL means "follow the connections" (online/offline).
    manual_status TEXT CHECK (manual_status IN ('away', 'busy')),
    current_room  UUID,
    last_seen     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
