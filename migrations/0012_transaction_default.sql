-- Events are appended by COPY, which cannot compute a column from an
-- expression; the default gives every row of a COPY the id of the
-- transaction that wrote it, which Watermill's subscribers order by.
ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT pg_current_xact_id();
