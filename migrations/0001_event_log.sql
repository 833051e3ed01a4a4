-- The event log: Watermill's own columns ("offset", uuid, payload, metadata,
-- transaction_id) plus the event-store columns our schema adapter fills from
-- each message's metadata. Ordered for subscribers by (transaction_id, offset),
-- which is what lets Watermill's PostgreSQL subscriber deliver exactly once.
-- payload and metadata are JSON, not JSONB: kept byte for byte as written,
-- and about a quarter cheaper to insert.
CREATE TABLE events (
    "offset"        BIGSERIAL   NOT NULL,
    uuid            VARCHAR(36) NOT NULL,
    payload         JSON        NOT NULL,
    metadata        JSON        NOT NULL,
    transaction_id  xid8        NOT NULL,
    tenant_id       UUID        NOT NULL,
    stream_type     TEXT        NOT NULL,
    stream_id       UUID        NOT NULL,
    stream_version  INTEGER     NOT NULL CHECK (stream_version > 0),
    event_type      TEXT        NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (transaction_id, "offset"),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

CREATE UNIQUE INDEX events_offset_idx ON events ("offset");
CREATE INDEX events_tenant_offset_idx ON events (tenant_id, "offset");

-- Events are facts: nothing may change or remove them, not even the owner.
CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the events table is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();

-- Watermill's offsets table, one row per consumer group (projection).
CREATE TABLE events_offsets (
    consumer_group                VARCHAR(255) NOT NULL PRIMARY KEY,
    offset_acked                  BIGINT,
    last_processed_transaction_id xid8 NOT NULL
);

-- Write-side uniqueness across streams (emails, external ids, list names).
-- Keys are keyed hashes, so the table holds no personal data in clear.
CREATE TABLE reservations (
    tenant_id UUID  NOT NULL,
    kind      TEXT  NOT NULL,
    key_hash  BYTEA NOT NULL,
    owner_id  UUID  NOT NULL,
    PRIMARY KEY (tenant_id, kind, key_hash)
);
CREATE INDEX reservations_owner_idx ON reservations (tenant_id, owner_id);

-- Per-subject data keys (crypto-shredding): personal fields of events are
-- sealed with the subject's key; erasure deletes the key, never an event.
-- The key itself is stored wrapped by the deployment's master key.
CREATE TABLE subject_keys (
    tenant_id   UUID        NOT NULL,
    subject_id  UUID        NOT NULL,
    wrapped_key BYTEA       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subject_id)
);

-- Events a projection could not apply after retries, set aside so the group
-- keeps moving. Operators replay them once the cause is fixed.
CREATE TABLE projection_failures (
    projection   TEXT        NOT NULL,
    event_offset BIGINT      NOT NULL,
    event_id     TEXT        NOT NULL,
    event_type   TEXT        NOT NULL,
    error        TEXT        NOT NULL,
    failed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, event_offset)
);
