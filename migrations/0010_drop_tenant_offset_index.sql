-- Every append wrote an entry into events_tenant_offset_idx, which no query
-- reads any more: the tenant's feed pages by (transaction, position)
-- through events_tenant_tx_offset_idx, and a position is found through
-- events_offset_idx. One index fewer to write for each event.
DROP INDEX events_tenant_offset_idx;
