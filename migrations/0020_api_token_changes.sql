-- The API remembers the tokens it authenticated while it listens on this
-- channel (adapters/postgres/token_cache.go); a change of what a token
-- grants, a revocation in SQL included, makes every instance forget them
-- all. Noting a token's last use changes nothing it grants: no notification.
CREATE FUNCTION api_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('api_tokens_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_changed AFTER UPDATE OF id, tenant_id, role, token_hash, revoked_at OR DELETE OR TRUNCATE
    ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_changed();
