-- 0003: model bookkeeping. Written by `triscope refresh`.

CREATE TABLE model_runs (
    refresh_id  BIGINT NOT NULL,
    model       VARCHAR NOT NULL,
    as_of       DATE NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    rows        BIGINT,
    status      VARCHAR NOT NULL,
    message     VARCHAR
);
COMMENT ON TABLE model_runs IS 'One row per model per refresh: status ok, empty (an input entity is absent; message says which) or failed.';

CREATE SEQUENCE refresh_id_seq START 1;

CREATE TABLE model_fits (
    model          VARCHAR NOT NULL,
    param          VARCHAR NOT NULL,
    value          DOUBLE,
    log_likelihood DOUBLE,
    n              BIGINT,
    as_of          DATE NOT NULL
);
COMMENT ON TABLE model_fits IS 'Fitted parameters of the statistical models (bgnbd: r, alpha, a, b and time_unit_days, the length in days of the time unit alpha is expressed in; gamma_gamma: p, q, gamma) of the latest refresh.';
