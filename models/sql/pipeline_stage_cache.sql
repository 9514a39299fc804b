-- The per-deal cache of pl_deal_stages (models/pipeline.go, dealStagesCache;
-- models/cache.go): model_cache.deal_stages holds every deal's stages
-- computed with its open stay running until a far day (9999-12-31), and
-- open_ended marking that stay, so that no row depends on as_of; a refresh
-- whose as_of is on or after every date of the deals and their history (the
-- default as-of date always is) reads it, moving the open stays back to
-- as_of. model_cache.stage_history holds every deal's history rows in order
-- (pipeline_stage_history.sql), read as pl_stage_history.
-- model_cache.deal_attrs holds what the funnel's cells and the forecast's
-- snapshots take from each deal (pl_deals) as the cache computed it, and
-- model_cache.stage_cells those cells summed over every stay that is over
-- (pipeline_stage_cells.sql): a refresh adds to them the stays still running
-- and, for the deals recomputed beside the cache, their new cells less their
-- cached ones, instead of summing the whole history again. .Step says which
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
UNION SELECT opportunity_id FROM main.opportunity_stages WHERE _load_id > {{.Since}}
-- a deal counts in its rep's unit (deal_attrs): the deals of a rep a load wrote
UNION SELECT opportunity_id FROM live.opportunities
WHERE owner_rep_id IN (SELECT rep_id FROM main.reps WHERE _load_id > {{.Since}})
-- and in its product's line (deal_attrs, the pipeline trend): the deals of a
-- product a load wrote
UNION SELECT opportunity_id FROM live.opportunities
WHERE product_id IN (SELECT product_id FROM main.products WHERE _load_id > {{.Since}});
{{- else if eq .Step "deals" -}}
CREATE OR REPLACE TEMP TABLE pl_ds_deals AS
SELECT * FROM pl_deals{{if not .All}} WHERE opportunity_id IN (SELECT opportunity_id FROM deal_stages_keys){{end}};
{{- else if eq .Step "mark" -}}
CREATE OR REPLACE TEMP TABLE deal_stages_new AS
SELECT n.*, n.is_current AND NOT n.is_closed AND d.closed_on IS NULL AS open_ended
FROM pl_ds_new n JOIN pl_ds_deals d USING (opportunity_id);
CREATE OR REPLACE TEMP TABLE deal_attrs_new AS
SELECT opportunity_id, status, amount_base, rep_org_unit_id, owner_rep_id, product_line, created_on, closed_on, expected_close_on, current_stage
FROM pl_ds_deals;
DROP TABLE pl_ds_new;
DROP TABLE pl_ds_deals;
{{- else if eq .Step "derive" -}}
-- the rows of the funnel's cells of every stay that is over, as the cache
-- holds them (pipeline_stage_cells.sql stores their sums, in the transaction
-- that writes the cache)
CREATE OR REPLACE TEMP VIEW pl_stage_cell_rows AS
SELECT 1 AS sign, ds.stage, ds.days, ds.max_open_position, a.status, a.amount_base, a.rep_org_unit_id
FROM model_cache.deal_stages ds JOIN model_cache.deal_attrs a USING (opportunity_id)
WHERE NOT ds.open_ended;
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
-- The rows of the funnel's cells (pipeline_stage_cells.sql adds them to the
-- cached cells of the stays that are over): the cached rows of the deals
-- recomputed beside the cache, to subtract, their recomputed rows, and every
-- stay still running at as_of (its days moved back to as_of as in
-- pl_deal_stages).
CREATE OR REPLACE TEMP VIEW pl_stage_cell_rows AS
SELECT -1 AS sign, ds.stage, ds.days, ds.max_open_position, a.status, a.amount_base, a.rep_org_unit_id
FROM model_cache.deal_stages ds JOIN model_cache.deal_attrs a USING (opportunity_id)
WHERE NOT ds.open_ended AND ds.opportunity_id IN (SELECT opportunity_id FROM deal_stages_overlay_keys)
UNION ALL
SELECT 1, ds.stage, ds.days, ds.max_open_position, a.status, a.amount_base, a.rep_org_unit_id
FROM deal_stages_overlay ds JOIN deal_attrs_overlay a USING (opportunity_id)
WHERE NOT ds.open_ended
UNION ALL
SELECT 1, ds.stage, ds.days - date_diff('day', getvariable('as_of'), DATE '9999-12-31'), ds.max_open_position,
       a.status, a.amount_base, a.rep_org_unit_id
FROM cached_deal_stages ds JOIN cached_deal_attrs a USING (opportunity_id)
WHERE ds.open_ended;
{{- end}}
