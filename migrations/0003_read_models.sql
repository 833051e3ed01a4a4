CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE rm_clients (
    tenant_id       UUID        NOT NULL,
    id              UUID        NOT NULL,
    version         INTEGER     NOT NULL,
    position        BIGINT      NOT NULL,
    status          TEXT        NOT NULL,
    kind            TEXT        NOT NULL,
    first_name      TEXT        NOT NULL DEFAULT '',
    last_name       TEXT        NOT NULL DEFAULT '',
    company_name    TEXT        NOT NULL DEFAULT '',
    display_name    TEXT        NOT NULL DEFAULT '',
    email           TEXT        NOT NULL DEFAULT '',
    language        TEXT        NOT NULL DEFAULT '',
    phone           TEXT        NOT NULL DEFAULT '',
    vat_number      TEXT        NOT NULL DEFAULT '',
    street          TEXT        NOT NULL DEFAULT '',
    house_number    TEXT        NOT NULL DEFAULT '',
    box             TEXT        NOT NULL DEFAULT '',
    postal_code     TEXT        NOT NULL DEFAULT '',
    city            TEXT        NOT NULL DEFAULT '',
    country         TEXT        NOT NULL DEFAULT '',
    external_refs   JSONB       NOT NULL DEFAULT '[]',
    sources         TEXT[]      NOT NULL DEFAULT '{}',
    custom_fields   JSONB       NOT NULL DEFAULT '{}',
    contact_persons JSONB       NOT NULL DEFAULT '[]',
    list_ids        UUID[]      NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ,
    sort_name       TEXT GENERATED ALWAYS AS (
        lower(CASE WHEN kind = 'company' AND company_name <> '' THEN company_name
                   ELSE last_name || ' ' || first_name END)) STORED,
    search          TEXT GENERATED ALWAYS AS (
        lower(first_name || ' ' || last_name || ' ' || company_name || ' ' ||
              display_name || ' ' || email || ' ' || vat_number)) STORED,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX rm_clients_order_idx ON rm_clients (tenant_id, sort_name, id);
CREATE INDEX rm_clients_search_idx ON rm_clients USING gin (search gin_trgm_ops);
CREATE INDEX rm_clients_lists_idx ON rm_clients USING gin (list_ids);
CREATE INDEX rm_clients_sources_idx ON rm_clients USING gin (sources);

CREATE TABLE rm_lists (
    tenant_id    UUID        NOT NULL,
    id           UUID        NOT NULL,
    version      INTEGER     NOT NULL,
    name         TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE rm_custom_fields (
    tenant_id  UUID        NOT NULL,
    name       TEXT        NOT NULL,
    type       TEXT        NOT NULL,
    options    TEXT[]      NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
