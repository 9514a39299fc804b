-- 0004: snapshot loads, database sources and their bookkeeping. Written by the loader.

-- A full snapshot of an entity marks the rows it no longer contains as deleted
-- instead of dropping them; a row that reappears in a later load is undeleted.
-- Models and reports must ignore rows whose _deleted_at is set.
ALTER TABLE org_units ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE reps ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE customers ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE opportunities ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE opportunity_stages ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE contracts ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE payments ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE payment_schedule ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE contract_lines ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE products ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE partners ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE expenses ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE activities ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE campaigns ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE targets ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE fx_rates ADD COLUMN _deleted_at TIMESTAMPTZ;
ALTER TABLE stages ADD COLUMN _deleted_at TIMESTAMPTZ;

-- How each file was applied: incremental (upsert; rows absent from the file are
-- kept) or snapshot (rows absent from the file are marked deleted), and how many
-- rows the snapshot marked deleted.
ALTER TABLE load_files ADD COLUMN mode VARCHAR;
ALTER TABLE load_files ADD COLUMN rows_deleted BIGINT;
COMMENT ON COLUMN load_files.mode IS 'incremental (rows absent from the file are kept) or snapshot (rows absent from the file are marked deleted).';
COMMENT ON COLUMN load_files.rows_deleted IS 'Rows a snapshot marked deleted (_deleted_at set).';

-- Incremental extraction from databases: the highest value of the watermark
-- column (usually updated_at) read by the last committed load of an entity.
CREATE TABLE source_watermarks (
    source     VARCHAR NOT NULL,
    entity     VARCHAR NOT NULL,
    watermark  VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE source_watermarks IS 'Per database source (postgres://host:port/db, no credentials) and entity: the watermark (text of the highest updated_at read) of the last committed load. The next load reads rows with updated_at >= watermark.';
