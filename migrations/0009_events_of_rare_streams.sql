-- Client events are nearly the whole log. A projection of other streams
-- (lists, custom fields, imports) that is rebuilt would read through every
-- client event to find its own: a replay of all read models spent more time
-- scanning for a few list events than rebuilding lists. This index holds
-- only the other events, so it costs client appends nothing; a rebuild's
-- reads, planned with their stream types in view, use it.
CREATE INDEX events_rare_streams_idx ON events (transaction_id, "offset") WHERE stream_type <> 'client';
