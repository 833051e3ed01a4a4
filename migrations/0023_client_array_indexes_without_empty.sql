-- Most clients are on no list and come from no source, yet each one put an
-- entry for its empty array into both GIN indexes, on every insert and on
-- every update that moved its row (an undo's deletions): two of the seven
-- index entries an imported client costs. The indexes now leave empty
-- arrays out; the queries that use them say so (list_ids <> '{}').
DROP INDEX rm_clients_lists_idx;
CREATE INDEX rm_clients_lists_idx ON rm_clients USING gin (list_ids) WHERE list_ids <> '{}';
DROP INDEX rm_clients_sources_idx;
CREATE INDEX rm_clients_sources_idx ON rm_clients USING gin (sources) WHERE sources <> '{}';
