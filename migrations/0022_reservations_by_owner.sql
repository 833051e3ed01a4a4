-- The owner index leaves the tenant out of its key. A lookup of unique
-- values gives the tenant, kind and hash, the primary key; but when the
-- statistics say the table is empty (an undo deleted every value of a
-- large import and autovacuum counted what was left), the planner took the
-- smaller owner index on the tenant alone and read the tenant's whole set
-- once for every value looked up: re-importing after an undo went
-- quadratic, 17 s for one chunk of 1,000 rows. Owner ids are client and
-- list ids, unique in the whole registry, so the tenant adds nothing.
DROP INDEX reservations_owner_idx;
CREATE INDEX reservations_owner_idx ON reservations (owner_id);
