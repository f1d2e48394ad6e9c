-- Issue 20: link previews. The cache holds what each URL's page said (NULL preview: nothing to
-- show, or the fetch was refused), shared by every message that links there; a message's preview
-- is kept beside it and goes when the message row goes.
CREATE TABLE link_preview_cache (
    url TEXT PRIMARY KEY,
    preview JSONB,
    fetched_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE message_link_previews (
    message_id UUID PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    preview JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
