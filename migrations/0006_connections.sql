-- Connections to practice-management systems (issue 5).

-- What a connection needs besides its stream: the sealed secrets (API key,
-- OAuth2 tokens, ERP secret: AES-GCM under a key from the master key, never
-- in the log), the pending OAuth2 consent, the sync cursor (committed with
-- each page's events) and the schedule. One active connection per provider
-- and tenant.
CREATE TABLE connections (
    tenant_id        UUID        NOT NULL,
    id               UUID        NOT NULL,
    provider         TEXT        NOT NULL,
    active           BOOLEAN     NOT NULL DEFAULT true,
    secrets          BYTEA,
    oauth_state      BYTEA,
    oauth_verifier   BYTEA,
    oauth_expires_at TIMESTAMPTZ,
    -- The source's position: provider-specific, opaque here.
    cursor           TEXT        NOT NULL DEFAULT '',
    -- The complete pull in progress (survives a failed run, so a resumed
    -- pull still knows what it has seen) and the counts of the open run.
    pull_id          UUID,
    run_id           UUID,
    run_counts       JSONB       NOT NULL DEFAULT '{}',
    -- The next run: when, and why (connect, manual, schedule). A run
    -- claims it under the connection's run lock.
    next_run_at      TIMESTAMPTZ,
    next_trigger     TEXT        NOT NULL DEFAULT 'schedule',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX connections_provider_idx ON connections (tenant_id, provider) WHERE active;
CREATE UNIQUE INDEX connections_oauth_state_idx ON connections (oauth_state) WHERE oauth_state IS NOT NULL;
CREATE INDEX connections_due_idx ON connections (next_run_at) WHERE active AND next_run_at IS NOT NULL;

-- One row per record of a source: the client it is linked to, a keyed
-- digest of what the source last said (so an unchanged record costs no
-- stream load), the client's version after the sync (a local edit since
-- shows as a newer version) and the last complete pull that saw it.
CREATE TABLE source_records (
    tenant_id      UUID        NOT NULL,
    source         TEXT        NOT NULL,
    external_id    TEXT        NOT NULL,
    client_id      UUID        NOT NULL,
    digest         BYTEA       NOT NULL,
    client_version INTEGER     NOT NULL,
    pull_id        UUID,
    removed        BOOLEAN     NOT NULL DEFAULT false,
    -- ERP pushes: the source's own updated_at, so older versions are ignored.
    source_updated_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, source, external_id)
);
CREATE INDEX source_records_client_idx ON source_records (tenant_id, client_id);

-- Signatures of ERP pushes seen within the replay window.
CREATE TABLE push_signatures (
    connection_id UUID        NOT NULL,
    signature     BYTEA       NOT NULL,
    seen_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, signature)
);

-- App registrations whose email matched no client: kept, sealed, so the
-- office can fix either side.
CREATE TABLE app_registrations (
    tenant_id    UUID        NOT NULL,
    id           UUID        NOT NULL,
    email_hash   BYTEA       NOT NULL,
    sealed       BYTEA       NOT NULL,
    client_id    UUID,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX app_registrations_pending_idx ON app_registrations (tenant_id, created_at) WHERE client_id IS NULL;
CREATE INDEX app_registrations_email_idx ON app_registrations (tenant_id, email_hash);

-- First contact matches by enterprise number.
CREATE INDEX rm_clients_vat_idx ON rm_clients (tenant_id, vat_number) WHERE vat_number <> '';

-- What the client view shows of syncs and the app.
ALTER TABLE rm_clients
    ADD COLUMN removed_at_source TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN access_status     TEXT   NOT NULL DEFAULT 'not_invited';
