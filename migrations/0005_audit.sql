-- The event feed pages a tenant's events in the order projections see them.
CREATE INDEX events_tenant_tx_offset_idx ON events (tenant_id, transaction_id, "offset");

-- Where each client came from: manual, import, or the source of the
-- connection whose sync registered it.
ALTER TABLE rm_clients ADD COLUMN origin TEXT NOT NULL DEFAULT 'manual';
UPDATE rm_clients SET origin = 'import' WHERE import_ids <> '{}';

-- Dashboard counts, kept by triggers on rm_clients so GET /v1/stats reads a
-- few rows instead of counting a million. Status counts every client; the
-- other dimensions count active clients only.
CREATE TABLE rm_client_counts (
    tenant_id UUID   NOT NULL,
    dimension TEXT   NOT NULL,
    key       TEXT   NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, dimension, key)
);

CREATE FUNCTION rm_client_count_keys(status TEXT, origin TEXT, language TEXT, list_ids UUID[])
RETURNS TABLE (dimension TEXT, key TEXT) LANGUAGE sql IMMUTABLE AS $$
    SELECT 'status', status
    UNION ALL SELECT 'origin', origin WHERE status = 'active'
    UNION ALL SELECT 'language', language WHERE status = 'active'
    UNION ALL SELECT 'list', l::text FROM unnest(list_ids) AS l WHERE status = 'active'
$$;

-- One statement-level function for the three triggers: the transition
-- tables are named alike, and a branch only reads the ones its operation
-- has. Names resolve through search_path, so a rebuild's triggers count
-- into the rebuild's own table.
CREATE FUNCTION rm_clients_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO rm_client_counts AS c (tenant_id, dimension, key, n)
        SELECT r.tenant_id, k.dimension, k.key, count(*)
        FROM new_rows r, rm_client_count_keys(r.status, r.origin, r.language, r.list_ids) k
        GROUP BY 1, 2, 3
        ON CONFLICT (tenant_id, dimension, key) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO rm_client_counts AS c (tenant_id, dimension, key, n)
        SELECT tenant_id, dimension, key, sum(d) FROM (
            SELECT r.tenant_id, k.dimension, k.key, -1 AS d
            FROM old_rows r, rm_client_count_keys(r.status, r.origin, r.language, r.list_ids) k
            UNION ALL
            SELECT r.tenant_id, k.dimension, k.key, 1
            FROM new_rows r, rm_client_count_keys(r.status, r.origin, r.language, r.list_ids) k
        ) AS x
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0
        ON CONFLICT (tenant_id, dimension, key) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO rm_client_counts AS c (tenant_id, dimension, key, n)
        SELECT r.tenant_id, k.dimension, k.key, -count(*)
        FROM old_rows r, rm_client_count_keys(r.status, r.origin, r.language, r.list_ids) k
        GROUP BY 1, 2, 3
        ON CONFLICT (tenant_id, dimension, key) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER rm_clients_count_insert AFTER INSERT ON rm_clients
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_clients_count();
CREATE TRIGGER rm_clients_count_update AFTER UPDATE ON rm_clients
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_clients_count();
CREATE TRIGGER rm_clients_count_delete AFTER DELETE ON rm_clients
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_clients_count();

INSERT INTO rm_client_counts (tenant_id, dimension, key, n)
SELECT c.tenant_id, k.dimension, k.key, count(*)
FROM rm_clients c, rm_client_count_keys(c.status, c.origin, c.language, c.list_ids) k
GROUP BY 1, 2, 3;
