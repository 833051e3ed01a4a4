-- The office's app backend gets a token of its own that can only ask
-- whether a person may come in (GET /v1/app-access).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'editor', 'viewer', 'app'));
