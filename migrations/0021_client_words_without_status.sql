-- The search's words leave the client's status out of their key: a
-- deletion, a restore or an undo of 100,000 clients changed only their
-- status, yet deleted and re-inserted every one of their words (a dozen a
-- client), 16 s of an undo's 19. The words now change only with a name or
-- an email; a search checks the status on the client's row, which it reads
-- anyway for the page (docs/list-query-plans.md).
DROP TRIGGER rm_clients_words_insert ON rm_clients;
DROP TRIGGER rm_clients_words_update ON rm_clients;
DROP TRIGGER rm_clients_words_delete ON rm_clients;
DROP TABLE rm_client_words;

CREATE TABLE rm_client_words (
    tenant_id UUID NOT NULL,
    word      TEXT COLLATE "C" NOT NULL, -- byte order: a prefix is a range
    sort_name TEXT NOT NULL,
    id        UUID NOT NULL
);

-- The rows whose words changed are gathered into arrays first: the planner
-- knows nothing of a transition table's size, and planned for every row
-- of rm_client_words (a sort of all of them) where a few probes of its
-- index do.
CREATE OR REPLACE FUNCTION rm_clients_words() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tenants UUID[];
    ids UUID[];
    old_sort_names TEXT[];
    old_words TEXT[];
    new_sort_names TEXT[];
    new_words TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO rm_client_words (tenant_id, word, sort_name, id)
        SELECT r.tenant_id, w, r.sort_name, r.id
        FROM new_rows r, rm_client_word_set(r.search_words) AS w;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(o.tenant_id), array_agg(o.id), array_agg(o.sort_name), array_agg(o.search_words),
               array_agg(n.sort_name), array_agg(n.search_words)
        INTO tenants, ids, old_sort_names, old_words, new_sort_names, new_words
        FROM old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id
        WHERE (o.sort_name, o.search_words) IS DISTINCT FROM (n.sort_name, n.search_words);
    ELSE
        SELECT array_agg(o.tenant_id), array_agg(o.id), array_agg(o.sort_name), array_agg(o.search_words)
        INTO tenants, ids, old_sort_names, old_words
        FROM old_rows o;
    END IF;
    IF ids IS NULL THEN
        RETURN NULL; -- a change of status, lists, notes...: the words stay
    END IF;
    DELETE FROM rm_client_words x
    USING unnest(tenants, ids, old_sort_names, old_words) AS c(tenant_id, id, sort_name, words),
          rm_client_word_set(c.words) AS w
    WHERE x.tenant_id = c.tenant_id AND x.word = w AND x.sort_name = c.sort_name AND x.id = c.id;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO rm_client_words (tenant_id, word, sort_name, id)
        SELECT c.tenant_id, w, c.sort_name, c.id
        FROM unnest(tenants, ids, new_sort_names, new_words) AS c(tenant_id, id, sort_name, words),
             rm_client_word_set(c.words) AS w;
    END IF;
    RETURN NULL;
END;
$$;
-- Enough memory to compare an undo's old and new rows without a sort on disk.
ALTER FUNCTION rm_clients_words() SET work_mem = '32MB';

CREATE TRIGGER rm_clients_words_insert AFTER INSERT ON rm_clients
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_clients_words();
CREATE TRIGGER rm_clients_words_update AFTER UPDATE ON rm_clients
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_clients_words();
CREATE TRIGGER rm_clients_words_delete AFTER DELETE ON rm_clients
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_clients_words();

-- Filled before its index is built: a B-tree built from its rows costs a
-- fraction of inserting them one by one.
INSERT INTO rm_client_words (tenant_id, word, sort_name, id)
SELECT r.tenant_id, w, r.sort_name, r.id
FROM rm_clients r, rm_client_word_set(r.search_words) AS w;
CREATE INDEX rm_client_words_idx ON rm_client_words (tenant_id, word, sort_name, id);
