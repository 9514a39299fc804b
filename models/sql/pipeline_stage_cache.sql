-- The per-deal cache of pl_deal_stages (models/pipeline.go, dealStagesCache;
-- models/cache.go): model_cache.deal_stages holds every deal's stages
-- computed with its open stay running until a far day (9999-12-31), and
-- open_ended marking that stay, so that no row depends on as_of; a refresh
-- whose as_of is on or after every date of the deals and their history (the
-- default as-of date always is) reads it, moving the open stays back to
-- as_of. model_cache.stage_history holds every deal's history rows in order
-- (pipeline_stage_history.sql), read as pl_stage_history. .Step says which
-- part runs.
{{if eq .Step "valid" -}}
SELECT coalesce(getvariable('as_of') >= (SELECT max(d) FROM (
    SELECT CAST(max(entered_at) AS DATE) AS d FROM live.opportunity_stages
    UNION ALL SELECT CAST(max(created_at) AS DATE) FROM live.opportunities
    UNION ALL SELECT max(closed_on) FROM live.opportunities)), true);
{{- else if eq .Step "keys" -}}
-- the deals whose row or history a load after the cache's wrote (deleted
-- rows too: a snapshot writes _load_id when it marks one)
CREATE OR REPLACE TEMP TABLE deal_stages_keys AS
SELECT opportunity_id FROM main.opportunities WHERE _load_id > {{.Since}}
UNION SELECT opportunity_id FROM main.opportunity_stages WHERE _load_id > {{.Since}};
{{- else if eq .Step "deals" -}}
CREATE OR REPLACE TEMP TABLE pl_ds_deals AS
SELECT * FROM pl_deals{{if not .All}} WHERE opportunity_id IN (SELECT opportunity_id FROM deal_stages_keys){{end}};
{{- else if eq .Step "mark" -}}
CREATE OR REPLACE TEMP TABLE deal_stages_new AS
SELECT n.*, n.is_current AND NOT n.is_closed AND d.closed_on IS NULL AS open_ended
FROM pl_ds_new n JOIN pl_ds_deals d USING (opportunity_id);
DROP TABLE pl_ds_new;
DROP TABLE pl_ds_deals;
{{- else if eq .Step "read" -}}
-- a view, not a copy: each model reads only the columns it needs from the
-- cache (copying its 28.6 M rows of a large company took 7 s)
CREATE OR REPLACE TEMP VIEW pl_deal_stages AS
SELECT * EXCLUDE (open_ended) REPLACE (
    CASE WHEN open_ended THEN days - date_diff('day', getvariable('as_of'), DATE '9999-12-31') ELSE days END AS days,
    CASE WHEN open_ended THEN current_days - date_diff('day', getvariable('as_of'), DATE '9999-12-31') ELSE current_days END AS current_days)
FROM cached_deal_stages;
-- a view: the forecast's snapshots read it once (forecast_snapshots.sql)
CREATE OR REPLACE TEMP VIEW pl_stage_history AS SELECT * FROM cached_stage_history;
{{- end}}
