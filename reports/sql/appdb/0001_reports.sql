-- reports 0001: the reports made in the web UI, what each run did for each
-- recipient, the files it rendered, and what a condition remembers per
-- recipient. The run ledger itself (report_runs, report_deliveries,
-- report_schedule_state) is reports/schedule's (ledger.sql).
CREATE TABLE IF NOT EXISTS report_definitions (
    name        VARCHAR PRIMARY KEY,
    owner       VARCHAR NOT NULL,
    definition  VARCHAR NOT NULL,        -- the Report as JSON
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
-- One row per (run, recipient): rendered and delivered, left out by the
-- report's condition (with the reason), or failed.
CREATE TABLE IF NOT EXISTS report_run_recipients (
    run_id      VARCHAR NOT NULL,
    report      VARCHAR NOT NULL,
    recipient   VARCHAR NOT NULL,        -- user name or ext:<slug>
    display     VARCHAR,
    status      VARCHAR NOT NULL,        -- rendering | rendered | skipped | failed
    note        VARCHAR,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (run_id, recipient)
);
-- The files a run rendered for a recipient, kept for the retention period.
CREATE SEQUENCE IF NOT EXISTS report_file_seq START 1;
CREATE TABLE IF NOT EXISTS report_files (
    file_id     BIGINT PRIMARY KEY DEFAULT nextval('report_file_seq'),
    run_id      VARCHAR NOT NULL,
    report      VARCHAR NOT NULL,
    recipient   VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    format      VARCHAR NOT NULL,
    path        VARCHAR NOT NULL,
    size        BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
-- What a condition remembers of the last copy sent to a recipient.
CREATE TABLE IF NOT EXISTS report_conditions (
    report       VARCHAR NOT NULL,
    recipient    VARCHAR NOT NULL,
    data_hash    VARCHAR,
    row_keys     VARCHAR,                -- JSON array (condition new: true)
    last_sent_at TIMESTAMPTZ,
    PRIMARY KEY (report, recipient)
);
