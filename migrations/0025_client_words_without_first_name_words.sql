-- A name of several words gave its first word twice to the search: as a
-- word, and as the start of the name written without its spaces ("dupont"
-- and "dupontconseil"). A query word that begins the first word begins
-- the name without spaces too, so that word found no client the other did
-- not: it is now left out ("Dupont Conseil" gives "dupontconseil" and
-- "conseil"), two of a bench client's twelve words, each an entry of
-- rm_client_words' index to keep. A name is now its form without spaces
-- followed by what comes after its first word.
--
-- Computing the words costs half what it did: the function is inlined (it
-- called concat_ws, which is only STABLE, so each row went through the SQL
-- function executor), and the last replacement matches only the runs of
-- separators that are not already a single space (each match is a call of
-- the regular expression engine; the result is the same).
CREATE OR REPLACE FUNCTION rm_client_search_words(first_name TEXT, last_name TEXT, company_name TEXT,
    display_name TEXT, email TEXT, vat_number TEXT)
RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(lower(' ' ||
        regexp_replace(first_name, '[^[:alnum:]]+', '', 'g') ||
        regexp_replace(first_name, '^[^[:alnum:]]*[[:alnum:]]*', '') || ' ' ||
        regexp_replace(last_name, '[^[:alnum:]]+', '', 'g') ||
        regexp_replace(last_name, '^[^[:alnum:]]*[[:alnum:]]*', '') || ' ' ||
        regexp_replace(company_name, '[^[:alnum:]]+', '', 'g') ||
        regexp_replace(company_name, '^[^[:alnum:]]*[[:alnum:]]*', '') || ' ' ||
        regexp_replace(display_name, '[^[:alnum:]]+', '', 'g') ||
        regexp_replace(display_name, '^[^[:alnum:]]*[[:alnum:]]*', '') || ' ' ||
        email || ' ' || vat_number), '[^[:alnum:]]*[^[:alnum:] ][^[:alnum:]]*| {2,}', ' ', 'g')
$$;

-- A stored column keeps what it was computed to: recomputed by adding it
-- again (a rewrite of the table, as migration 0018's).
ALTER TABLE rm_clients DROP COLUMN search_words;
ALTER TABLE rm_clients ADD COLUMN search_words TEXT GENERATED ALWAYS AS (
    rm_client_search_words(first_name, last_name, company_name, display_name, email, vat_number)) STORED;

-- The words again, from the new search_words (as migration 0021: filled
-- before the index is built).
DROP INDEX rm_client_words_idx;
TRUNCATE rm_client_words;
INSERT INTO rm_client_words (tenant_id, word, sort_name, id)
SELECT r.tenant_id, w, r.sort_name, r.id
FROM rm_clients r, rm_client_word_set(r.search_words) AS w;
CREATE INDEX rm_client_words_idx ON rm_client_words (tenant_id, word, sort_name, id);
