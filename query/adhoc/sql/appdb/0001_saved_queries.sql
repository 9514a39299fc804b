-- Saved queries of ad hoc SQL: a name, a description, the SQL with its
-- parameters ($from …) and their defaults; private to the owner, or shared
-- with everyone of one role. Reports run them (adhoc.Store.RunSaved).
CREATE TABLE sql_saved_queries (
    query_id     VARCHAR PRIMARY KEY,
    owner        VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    description  VARCHAR NOT NULL DEFAULT '',
    sql          VARCHAR NOT NULL,
    params       VARCHAR NOT NULL DEFAULT '[]', -- JSON: [{"name": "from", "type": "date", "default": "2025-01-01"}]
    shared_role  VARCHAR,                       -- NULL: private
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (owner, name)
);

-- The queries each user ran (the console's history), newest kept.
CREATE SEQUENCE sql_history_seq;
CREATE TABLE sql_history (
    id          BIGINT PRIMARY KEY DEFAULT nextval('sql_history_seq'),
    username    VARCHAR NOT NULL,
    ran_at      TIMESTAMPTZ NOT NULL,
    entry       VARCHAR NOT NULL,
    sql         VARCHAR NOT NULL,
    rows        BIGINT NOT NULL,
    elapsed_ms  DOUBLE NOT NULL,
    outcome     VARCHAR NOT NULL
);
CREATE INDEX sql_history_user ON sql_history (username, id);
