-- Clients carry notes (free text, several lines, up to 4,000 characters).
-- Not part of the search column: notes are read on the client, not searched.
ALTER TABLE rm_clients ADD COLUMN notes TEXT NOT NULL DEFAULT '';
