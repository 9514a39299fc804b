-- 0007: incremental refresh. Each model run says how it ran and why, and
-- what it was computed from, so that the next refresh can tell what changed
-- since (models/incremental.go).

ALTER TABLE model_runs ADD COLUMN kind VARCHAR;
ALTER TABLE model_runs ADD COLUMN why VARCHAR;
ALTER TABLE model_runs ADD COLUMN load_id BIGINT;
ALTER TABLE model_runs ADD COLUMN fingerprint VARCHAR;
COMMENT ON COLUMN model_runs.kind IS 'full (computed from all rows), incremental (its largest inputs, kept across refreshes in schema model_cache, were updated for the rows the loads since its last run wrote, the rest computed from all rows) or kept (nothing it reads changed: its tables stay as the run before left them).';
COMMENT ON COLUMN model_runs.why IS 'Why the run was of that kind: asked for (--full), no earlier run, an input that forces a full run (stages, fx rates, org tree, settings, a snapshot that deleted rows, the as-of date moving), or which inputs changed.';
COMMENT ON COLUMN model_runs.load_id IS 'The last committed load the tables reflect.';
COMMENT ON COLUMN model_runs.fingerprint IS 'The model code, its settings, the base currency, the time zone and the facts definitions the run used: another fingerprint forces a full run.';
