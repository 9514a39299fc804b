-- access 0001: users, sessions and the audit trail (IF NOT EXISTS: files made
-- before the application database had migrations hold them already).
CREATE TABLE IF NOT EXISTS users (
    username            VARCHAR PRIMARY KEY,
    name                VARCHAR,
    role                VARCHAR NOT NULL,
    org_unit_id         VARCHAR,
    rep_id              VARCHAR,
    password_hash       VARCHAR NOT NULL,
    disabled            BOOLEAN NOT NULL DEFAULT false,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id  VARCHAR PRIMARY KEY,
    username    VARCHAR NOT NULL,
    csrf_token  VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    last_seen   TIMESTAMPTZ NOT NULL,
    ip          VARCHAR,
    user_agent  VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS audit_seq START 1;
CREATE TABLE IF NOT EXISTS audit_log (
    id          BIGINT NOT NULL DEFAULT nextval('audit_seq'),
    occurred_at TIMESTAMPTZ NOT NULL,
    username    VARCHAR,
    action      VARCHAR NOT NULL,
    ip          VARCHAR,
    request_id  VARCHAR,
    detail      VARCHAR
);
