-- The check value of the master key the registry was first used with. A
-- process started with another key refuses to run, instead of writing data
-- that no one can read back (eventlog.CheckMasterKey).
CREATE TABLE master_key_check (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    check_value bytea NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
