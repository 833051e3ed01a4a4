-- The client search matches the start of words instead of any substring,
-- through a table that keeps the name order: one row per client and word
-- of its names, email and VAT number, keyed (tenant, status, word,
-- sort_name, id). The clients having one word are a range of it already in
-- list order, so a search reads its page and stops (a trigram index found
-- every match and the search sorted them). A multi-word name is also
-- indexed written without its spaces and punctuation, so "vand" finds
-- "Van den Berghe". docs/list-query-plans.md shows the plans.

-- The words of a client, each preceded by a space: a query word q matches
-- when the text holds ' ' || q. Words are runs of letters and digits,
-- lower-cased; a name is also written without its spaces and punctuation.
-- One expression (inlined, a few regular expressions a row): the table
-- below drops the repeats.
CREATE FUNCTION rm_client_search_words(first_name TEXT, last_name TEXT, company_name TEXT,
    display_name TEXT, email TEXT, vat_number TEXT)
RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(lower(concat_ws(' ', '', first_name, last_name, company_name, display_name, email,
        vat_number, regexp_replace(first_name, '[^[:alnum:]]+', '', 'g'),
        regexp_replace(last_name, '[^[:alnum:]]+', '', 'g'),
        regexp_replace(company_name, '[^[:alnum:]]+', '', 'g'),
        regexp_replace(display_name, '[^[:alnum:]]+', '', 'g'))), '[^[:alnum:]]+', ' ', 'g')
$$;

-- The trigram index cost more to keep than the whole table below (5.5 s
-- of a 100,000-client import).
ALTER TABLE rm_clients DROP COLUMN search;
ALTER TABLE rm_clients ADD COLUMN search_words TEXT GENERATED ALWAYS AS (
    rm_client_search_words(first_name, last_name, company_name, display_name, email, vat_number)) STORED;

-- The distinct words of a client's search_words.
CREATE FUNCTION rm_client_word_set(search_words TEXT) RETURNS SETOF TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT w FROM unnest(string_to_array(btrim(search_words), ' ')) AS w WHERE w <> ''
$$;

CREATE TABLE rm_client_words (
    tenant_id UUID NOT NULL,
    status    TEXT NOT NULL,
    word      TEXT COLLATE "C" NOT NULL, -- byte order: a prefix is a range
    sort_name TEXT NOT NULL,
    id        UUID NOT NULL
);
CREATE INDEX rm_client_words_idx ON rm_client_words (tenant_id, status, word, sort_name, id);

-- Kept by statement triggers on rm_clients, like the dashboard counts: the
-- projection's every INSERT, UPDATE and COPY keep it without knowing it.
-- An update rewrites the words of the rows whose status, name or words
-- changed, and only those (most updates change neither).
CREATE FUNCTION rm_clients_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO rm_client_words (tenant_id, status, word, sort_name, id)
        SELECT r.tenant_id, r.status, w, r.sort_name, r.id
        FROM new_rows r, rm_client_word_set(r.search_words) AS w;
    ELSIF TG_OP = 'UPDATE' THEN
        DELETE FROM rm_client_words x
        USING old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id,
              rm_client_word_set(o.search_words) AS w
        WHERE (o.status, o.sort_name, o.search_words) IS DISTINCT FROM (n.status, n.sort_name, n.search_words)
          AND x.tenant_id = o.tenant_id AND x.status = o.status AND x.word = w
          AND x.sort_name = o.sort_name AND x.id = o.id;
        INSERT INTO rm_client_words (tenant_id, status, word, sort_name, id)
        SELECT n.tenant_id, n.status, w, n.sort_name, n.id
        FROM old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id,
             rm_client_word_set(n.search_words) AS w
        WHERE (o.status, o.sort_name, o.search_words) IS DISTINCT FROM (n.status, n.sort_name, n.search_words);
    ELSE
        DELETE FROM rm_client_words x
        USING old_rows o, rm_client_word_set(o.search_words) AS w
        WHERE x.tenant_id = o.tenant_id AND x.status = o.status AND x.word = w
          AND x.sort_name = o.sort_name AND x.id = o.id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER rm_clients_words_insert AFTER INSERT ON rm_clients
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_clients_words();
CREATE TRIGGER rm_clients_words_update AFTER UPDATE ON rm_clients
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_clients_words();
CREATE TRIGGER rm_clients_words_delete AFTER DELETE ON rm_clients
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_clients_words();

INSERT INTO rm_client_words (tenant_id, status, word, sort_name, id)
SELECT r.tenant_id, r.status, w, r.sort_name, r.id
FROM rm_clients r, rm_client_word_set(r.search_words) AS w;
