-- A tenant's own notification defaults (issue 14): what a member who never chose is notified of,
-- in direct rooms and in the others. Without a row the server's settings apply.
CREATE TABLE tenant_notify_defaults (
    tenant_id   UUID PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    direct      TEXT NOT NULL CHECK (direct IN ('all', 'mentions', 'none')),
    other       TEXT NOT NULL CHECK (other IN ('all', 'mentions', 'none')),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The one rule for a member's notify level: their choice, else their tenant's default for the
-- room's type, else the server's (passed in, from `notifications.default_direct/other`).
CREATE FUNCTION notify_level(choice TEXT, tenant UUID, room_type TEXT,
                             server_direct TEXT, server_other TEXT)
RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        choice,
        (SELECT CASE WHEN room_type = 'direct' THEN d.direct ELSE d.other END
           FROM tenant_notify_defaults d WHERE d.tenant_id = tenant),
        CASE WHEN room_type = 'direct' THEN server_direct ELSE server_other END)
$$;
