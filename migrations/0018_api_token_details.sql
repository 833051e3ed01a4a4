-- What the console's API tokens page shows about each token (never the
-- token: only its hash is kept): a name saying what it is for, who made it
-- (an actor, as events name one; NULL for the CLI and the tenant's first
-- token) and when it last authenticated a request, to the minute.
ALTER TABLE api_tokens
    ADD COLUMN name         TEXT NOT NULL DEFAULT '',
    ADD COLUMN created_by   TEXT,
    ADD COLUMN last_used_at TIMESTAMPTZ;
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, created_at);
