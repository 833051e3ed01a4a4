-- The client list is always one status (active unless asked) in one order
-- (name, or last update). With the status inside the order indexes a page
-- is a range of one: the first page reads its 51 entries whatever else the
-- tenant holds (an undone import's 100,000 deleted clients no longer stand
-- in front of the active ones to be read and filtered out). The indexes
-- without the status served nothing else; "all statuses" merges one walk
-- per status.
CREATE INDEX rm_clients_status_order_idx ON rm_clients (tenant_id, status, sort_name, id);
DROP INDEX rm_clients_order_idx;
CREATE INDEX rm_clients_status_updated_idx ON rm_clients (tenant_id, status, updated_at, id);
DROP INDEX rm_clients_updated_idx;
