-- The run ledger of report schedules (reports/schedule). Idempotent: every
-- statement may run again on every start.

-- One row per schedule the scheduler has seen: fire times at or before
-- `since` are not due (the moment it was first seen, or last resumed).
CREATE TABLE IF NOT EXISTS report_schedule_state (
    schedule_id  VARCHAR PRIMARY KEY,
    since        TIMESTAMPTZ NOT NULL,
    paused       BOOLEAN NOT NULL DEFAULT false,
    changed_at   TIMESTAMPTZ NOT NULL,
    changed_by   VARCHAR
);

-- One row per (schedule, fire time), written before any work: the primary
-- key makes a second claim of the same fire time fail.
CREATE TABLE IF NOT EXISTS report_runs (
    schedule_id  VARCHAR NOT NULL,
    fire_time    TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR NOT NULL UNIQUE,  -- schedule_id '@' fire time in UTC
    trigger_kind VARCHAR NOT NULL,         -- cron | after_load | once | manual
    status       VARCHAR NOT NULL,         -- queued | running | succeeded | failed | skipped
    attempt      INTEGER NOT NULL,         -- 1, plus one per resumption after a crash
    owner        VARCHAR NOT NULL,         -- the process that claimed or resumed it
    note         VARCHAR,                  -- why: missed-time policy, resumption, crash policy
    error        VARCHAR,
    claimed_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    PRIMARY KEY (schedule_id, fire_time)
);

-- One row per delivery of a run, written before it is sent (pending) and
-- after (sent, or failed with the error). delivery_key is the idempotency
-- key: the email Message-ID and the webhook Idempotency-Key derive from it,
-- so a resumed run resends with the same one.
CREATE TABLE IF NOT EXISTS report_deliveries (
    run_id       VARCHAR NOT NULL,
    recipient    VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    delivery_key VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,         -- pending | sent | failed
    attempts     INTEGER NOT NULL,         -- tries made by the channel, over all resumptions
    receipt      VARCHAR,
    error        VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, recipient, channel)
);
