-- The funnel's cells (funnel.sql): deals counted per owner unit (the rep's
-- unit), stage and whole days in the stage, from pl_stage_cell_rows: one row
-- per deal and stage entered (pl_deal_stages) with what the funnel takes
-- from the deal (pl_deals), and a sign. Directly, every row counts once
-- (.Step direct); from the per-deal cache (pipeline_stage_cache.sql), the
-- cells of the stays that are over are kept across refreshes and the rows
-- of the deals a load changed come twice, their cached cells to subtract
-- (sign -1) and their new ones to add. Counts and amounts are exact (integers
-- and decimals), so the sums are the same whichever way they were added up.
-- .Step: direct (the rows from pl_deal_stages), sums (pl_stage_cells; with
-- .Cached, added to the cache's), store (the cache's cells, model_cache).
{{if eq .Step "sums" -}}
CREATE OR REPLACE TEMP VIEW pl_stage_cell_sums AS
WITH fs AS (
    -- the funnel's stages: every open stage and the win stage(s) at the bottom
    SELECT stage, position, default_probability, is_win FROM pl_stages WHERE NOT is_closed OR is_win
),
per AS (
    SELECT r.sign, r.rep_org_unit_id, r.stage, r.days, r.status, fs.is_win,
           CASE WHEN r.sign > 0 THEN r.amount_base ELSE -r.amount_base END AS amount,
           CASE WHEN r.sign > 0 THEN r.amount_base * fs.default_probability ELSE -(r.amount_base * fs.default_probability) END AS weighted_x100,
           CASE WHEN fs.is_win THEN false ELSE r.status = 'won' OR coalesce(r.max_open_position > fs.position, false) END AS advanced
    FROM pl_stage_cell_rows r
    JOIN fs USING (stage)
)
SELECT rep_org_unit_id, stage, days,
       CAST(sum(sign) AS BIGINT) AS entered,
       CAST(coalesce(sum(sign) FILTER (WHERE advanced), 0) AS BIGINT) AS advanced,
       CAST(coalesce(sum(sign) FILTER (WHERE NOT advanced AND NOT is_win AND status = 'lost'), 0) AS BIGINT) AS dropped,
       CAST(coalesce(sum(sign) FILTER (WHERE NOT advanced AND NOT is_win AND status = 'open'), 0) AS BIGINT) AS still_open,
       CAST(coalesce(sum(sign) FILTER (WHERE status = 'won'), 0) AS BIGINT) AS won,
       sum(amount) AS amount,
       sum(weighted_x100) AS weighted_x100
FROM per GROUP BY ALL;
{{if .Cached -}}
CREATE OR REPLACE TEMP VIEW pl_stage_cells AS
SELECT rep_org_unit_id, stage, days,
       CAST(sum(entered) AS BIGINT) AS entered, CAST(sum(advanced) AS BIGINT) AS advanced,
       CAST(sum(dropped) AS BIGINT) AS dropped, CAST(sum(still_open) AS BIGINT) AS still_open,
       CAST(sum(won) AS BIGINT) AS won, sum(amount) AS amount, sum(weighted_x100) AS weighted_x100
FROM (SELECT * FROM model_cache.stage_cells UNION ALL SELECT * FROM pl_stage_cell_sums)
GROUP BY ALL
-- a cell whose every deal was recomputed into another one is gone
HAVING sum(entered) <> 0;
{{- else -}}
CREATE OR REPLACE TEMP VIEW pl_stage_cells AS SELECT * FROM pl_stage_cell_sums;
{{- end}}
{{- else if eq .Step "store" -}}
CREATE OR REPLACE TABLE model_cache.stage_cells AS SELECT * FROM pl_stage_cell_sums;
{{- else if eq .Step "direct" -}}
CREATE OR REPLACE TEMP VIEW pl_stage_cell_rows AS
SELECT 1 AS sign, ds.stage, ds.days, ds.max_open_position, d.status, d.amount_base, d.rep_org_unit_id
FROM pl_deal_stages ds JOIN pl_deals d USING (opportunity_id);
{{- end}}
