-- The ids a seed system gave what `confab import django` brought over (integer or UUID pks), so
-- a seed's routes can answer the old ids: a room's or message's pk in the old system, by tenant.
CREATE TABLE legacy_ids (
    tenant_id  UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('room', 'message')),
    legacy_pk  TEXT NOT NULL CHECK (char_length(legacy_pk) BETWEEN 1 AND 128),
    id         UUID NOT NULL,
    PRIMARY KEY (tenant_id, kind, legacy_pk)
);
CREATE INDEX legacy_ids_id ON legacy_ids (id);
