-- Bulk imports.

-- Every event an import writes (and every compensating event of its undo)
-- names the import, so undo and history find them without scanning the log.
ALTER TABLE events ADD COLUMN import_id UUID;
CREATE INDEX events_import_idx ON events (tenant_id, import_id, "offset") WHERE import_id IS NOT NULL;

-- Per-tenant limits on what one import may bring.
ALTER TABLE tenants
    ADD COLUMN max_import_rows    INTEGER NOT NULL DEFAULT 100000,
    ADD COLUMN max_import_bytes   BIGINT  NOT NULL DEFAULT 52428800,
    ADD COLUMN max_import_columns INTEGER NOT NULL DEFAULT 100;

-- The uploaded file, as it was, in chunks so large files stream back out.
-- Kept so execution reads exactly what was analyzed (its SHA-256 is in the
-- ImportAnalyzed event) and so rejected rows can be handed back.
CREATE TABLE import_files (
    tenant_id UUID    NOT NULL,
    import_id UUID    NOT NULL,
    chunk     INTEGER NOT NULL,
    data      BYTEA   NOT NULL,
    PRIMARY KEY (tenant_id, import_id, chunk)
);

-- What the analysis (phase 'analyze') and the execution (phase 'execute')
-- found wrong with rows, for paging and for the rejected-rows export.
-- Messages are rendered from code and params in the reader's language.
CREATE TABLE import_issues (
    tenant_id UUID    NOT NULL,
    import_id UUID    NOT NULL,
    phase     TEXT    NOT NULL CHECK (phase IN ('analyze', 'execute')),
    seq       INTEGER NOT NULL,
    severity  TEXT    NOT NULL CHECK (severity IN ('error', 'warning')),
    row       INTEGER NOT NULL,
    col       TEXT    NOT NULL DEFAULT '',
    header    TEXT    NOT NULL DEFAULT '',
    field     TEXT    NOT NULL DEFAULT '',
    value     TEXT    NOT NULL DEFAULT '',
    code      TEXT    NOT NULL,
    params    JSONB   NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, import_id, phase, seq)
);
CREATE INDEX import_issues_row_idx ON import_issues (tenant_id, import_id, row);

-- Executions waiting or running. The worker holds the row locked for the
-- whole execution transaction and deletes it in that transaction: a crash
-- rolls everything back and leaves the job for the next worker.
CREATE TABLE import_jobs (
    tenant_id    UUID        NOT NULL,
    import_id    UUID        NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, import_id)
);

-- Progress of running executions, written outside the execution
-- transaction so other sessions can see it.
CREATE TABLE import_progress (
    tenant_id  UUID        NOT NULL,
    import_id  UUID        NOT NULL,
    rows_done  INTEGER     NOT NULL,
    rows_total INTEGER     NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, import_id)
);

-- Labels: the per-tenant sequence number, taken in the execution
-- transaction so a rolled-back import does not use up a number.
CREATE TABLE import_sequences (
    tenant_id UUID    PRIMARY KEY,
    last_seq  INTEGER NOT NULL
);

-- Import history read model.
CREATE TABLE rm_imports (
    tenant_id    UUID        NOT NULL,
    id           UUID        NOT NULL,
    version      INTEGER     NOT NULL,
    position     BIGINT      NOT NULL,
    status       TEXT        NOT NULL,
    label        TEXT        NOT NULL DEFAULT '',
    seq          INTEGER     NOT NULL DEFAULT 0,
    file_name    TEXT        NOT NULL,
    file_sha256  TEXT        NOT NULL DEFAULT '',
    file_size    BIGINT      NOT NULL DEFAULT 0,
    actor        TEXT        NOT NULL DEFAULT '',
    analysis     JSONB       NOT NULL DEFAULT '{}',
    execution    JSONB,
    undo         JSONB,
    failure      TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    executed_at  TIMESTAMPTZ,
    undone_at    TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX rm_imports_order_idx ON rm_imports (tenant_id, created_at DESC, id DESC);

-- Clients remember which imports touched them (filter ?import=).
ALTER TABLE rm_clients ADD COLUMN import_ids UUID[] NOT NULL DEFAULT '{}';
CREATE INDEX rm_clients_imports_idx ON rm_clients USING gin (import_ids);
