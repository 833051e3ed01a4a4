-- The console lists clients most recently updated first: a keyset page in
-- that order reads this index instead of sorting the tenant's clients.
CREATE INDEX rm_clients_updated_idx ON rm_clients (tenant_id, updated_at, id);
