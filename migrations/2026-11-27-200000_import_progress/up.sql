-- `confab import django` commits each chunk of rooms with a row per room here, in the same
-- transaction as the room's messages: a run killed half-way, run again on the same file, skips
-- the rooms already moved. `file_key` names the file (its path, size and modification time).
CREATE TABLE import_progress (
    tenant_id  UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    file_key   TEXT NOT NULL CHECK (char_length(file_key) BETWEEN 1 AND 64),
    room_id    UUID NOT NULL,
    messages   INTEGER NOT NULL CHECK (messages >= 0),
    done_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, file_key, room_id),
    FOREIGN KEY (room_id, tenant_id) REFERENCES rooms (id, tenant_id) ON DELETE CASCADE
);
