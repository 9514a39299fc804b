-- 0002: load bookkeeping. Written by the loader; readable by analysts.

CREATE SEQUENCE load_id_seq START 1;

CREATE TABLE load_runs (
    load_id      BIGINT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    status       VARCHAR NOT NULL,
    message      VARCHAR,
    rows_read    BIGINT,
    rows_loaded  BIGINT,
    rows_updated BIGINT,
    rows_unchanged BIGINT,
    rows_rejected  BIGINT
);
COMMENT ON TABLE load_runs IS 'One row per load: status committed, unchanged (same content as before), rejected (over the bad-row threshold) or failed.';

CREATE TABLE load_files (
    load_id        BIGINT NOT NULL,
    path           VARCHAR NOT NULL,
    entity         VARCHAR NOT NULL,
    format         VARCHAR NOT NULL,
    encoding       VARCHAR,
    sha256         VARCHAR NOT NULL,
    bytes          BIGINT,
    rows_read      BIGINT,
    rows_loaded    BIGINT,
    rows_updated   BIGINT,
    rows_unchanged BIGINT,
    rows_rejected  BIGINT,
    rows_duplicate BIGINT,
    status         VARCHAR NOT NULL
);
COMMENT ON TABLE load_files IS 'One row per file of a load, with its content hash (sha256) so an identical file is recognised.';

CREATE TABLE load_rejects (
    load_id BIGINT NOT NULL,
    path    VARCHAR NOT NULL,
    entity  VARCHAR NOT NULL,
    line    BIGINT,
    "column" VARCHAR,
    value   VARCHAR,
    reason  VARCHAR NOT NULL
);
COMMENT ON TABLE load_rejects IS 'Quarantine: every rejected row with file, line, column, value and reason.';
