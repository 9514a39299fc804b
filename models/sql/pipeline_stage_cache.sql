-- The per-deal cache of pl_deal_stages (models/pipeline.go, plDealStages):
-- model_cache.deal_stages holds every deal's stages computed with its open
-- stay running until a far day (9999-12-31) and open_ended marking that
-- stay, so that it does not depend on as_of; model_cache.deal_stages_state
-- says which load it reflects and from which definitions. A refresh whose
-- as_of is on or after every date of the deals and their history (the
-- default as-of date always is) reads it, moving the open stays back to
-- as_of; the loads since update it for the deals they touched.

-- {{.Step}}: one of schema, changed, mark, replace, rebuild, state, read
{{if eq .Step "schema" -}}
CREATE SCHEMA IF NOT EXISTS model_cache;
{{- else if eq .Step "changed" -}}
-- the deals whose row or history a load after the cache's wrote (deleted
-- rows too: a snapshot writes _load_id when it marks one)
CREATE OR REPLACE TEMP TABLE pl_ds_deals AS
SELECT * FROM pl_deals WHERE opportunity_id IN (
    SELECT opportunity_id FROM main.opportunities WHERE _load_id > {{.Since}}
    UNION SELECT opportunity_id FROM main.opportunity_stages WHERE _load_id > {{.Since}});
CREATE OR REPLACE TEMP TABLE pl_ds_changed AS
SELECT opportunity_id FROM main.opportunities WHERE _load_id > {{.Since}}
UNION SELECT opportunity_id FROM main.opportunity_stages WHERE _load_id > {{.Since}};
{{- else if eq .Step "mark" -}}
CREATE OR REPLACE TEMP TABLE pl_ds_marked AS
SELECT n.*, n.is_current AND NOT n.is_closed AND d.closed_on IS NULL AS open_ended
FROM pl_ds_new n JOIN pl_ds_deals d USING (opportunity_id);
{{- else if eq .Step "replace" -}}
DELETE FROM model_cache.deal_stages WHERE opportunity_id IN (SELECT opportunity_id FROM pl_ds_changed);
INSERT INTO model_cache.deal_stages SELECT * FROM pl_ds_marked;
{{- else if eq .Step "rebuild" -}}
CREATE OR REPLACE TABLE model_cache.deal_stages AS SELECT * FROM pl_ds_marked;
{{- else if eq .Step "state" -}}
CREATE OR REPLACE TABLE model_cache.deal_stages_state AS
SELECT CAST({{.LoadID}} AS BIGINT) AS load_id, '{{.Fingerprint}}' AS fingerprint;
{{- else if eq .Step "read" -}}
CREATE OR REPLACE TEMP TABLE pl_deal_stages AS
SELECT * EXCLUDE (open_ended) REPLACE (
    CASE WHEN open_ended THEN days - date_diff('day', getvariable('as_of'), DATE '9999-12-31') ELSE days END AS days,
    CASE WHEN open_ended THEN current_days - date_diff('day', getvariable('as_of'), DATE '9999-12-31') ELSE current_days END AS current_days)
FROM model_cache.deal_stages;
{{- end}}
