-- A projector of rare streams only (lists, custom fields, imports) reads
-- the log of those events alone. To tell whether it has applied what a
-- client event's writer wrote before it, read-your-writes looks for the
-- tenant's last rare event before that one: after a 100,000-client import
-- a walk of the tenant's whole log would pass every client event first.
CREATE INDEX events_rare_streams_tenant_idx ON events (tenant_id, transaction_id, "offset") WHERE stream_type <> 'client';
