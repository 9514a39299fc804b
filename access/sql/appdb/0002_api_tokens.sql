-- access 0002: API tokens a user creates and revokes for scripts and BI
-- tools (POST /api/sql, Flight SQL): only the SHA-256 of the secret is kept.
CREATE TABLE IF NOT EXISTS api_tokens (
    token_id     VARCHAR PRIMARY KEY,
    username     VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    token_hash   VARCHAR NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
