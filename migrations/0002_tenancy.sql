CREATE TABLE tenants (
    id         UUID        PRIMARY KEY,
    name       TEXT        NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Tokens are stored as SHA-256 of the secret; the secret is shown once.
CREATE TABLE api_tokens (
    id         UUID        PRIMARY KEY,
    tenant_id  UUID        NOT NULL REFERENCES tenants (id),
    role       TEXT        NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    token_hash BYTEA       NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);

CREATE TABLE idempotency_keys (
    tenant_id     UUID        NOT NULL,
    key           TEXT        NOT NULL,
    request_hash  BYTEA       NOT NULL,
    owner         UUID        NOT NULL,
    status        INTEGER,
    response_body BYTEA,
    etag          TEXT        NOT NULL DEFAULT '',
    location      TEXT        NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
