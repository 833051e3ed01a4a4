-- People who sign in to the console (adapters/postgres/users.go owns both
-- tables). Emails are stored lower case and identify a user across tenants:
-- the sign-in form asks for nothing else. Passwords are bcrypt hashes;
-- sessions are kept as SHA-256 of the cookie's secret.
CREATE TABLE console_users (
    id                UUID        PRIMARY KEY,
    tenant_id         UUID        NOT NULL REFERENCES tenants (id),
    email             TEXT        NOT NULL UNIQUE,
    role              TEXT        NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    password_hash     TEXT        NOT NULL,
    must_set_password BOOLEAN     NOT NULL DEFAULT true,
    failed_signins    INTEGER     NOT NULL DEFAULT 0,
    last_failed_at    TIMESTAMPTZ,
    last_signin_at    TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX console_users_tenant ON console_users (tenant_id, email);

CREATE TABLE console_sessions (
    token_hash BYTEA       PRIMARY KEY,
    user_id    UUID        NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
