-- Every stage history row of the deals of a table (.Deals: pl_deals, or some
-- of them for the per-deal cache, models/pipeline.go dealStagesCache) in each
-- deal's order, with the day the next row was entered (next_on) and whether
-- it is the deal's first row (is_first), into .Into: a temp view
-- (pl_stage_history, read once by the forecast's snapshots,
-- forecast_snapshots.sql, which look up only dates on or before as_of), or a
-- temp table for the cache. Rows are
-- ordered like pipeline_at's "latest" (entered_at, then position, then
-- stage), so of several rows entered on one day the last one holds at the
-- end of that day; an unknown stage (no position) comes first, so that the
-- known stage holds. The window sorts the whole history (28.6 M rows, 13 s
-- of a large company's refresh): the cache keeps its rows per deal.
-- Nothing here depends on as_of when as_of is on or after every date of the
-- deals and their history (the cache's condition): a deal created after
-- as_of is not in .Deals, and a row entered after as_of does not exist.
CREATE OR REPLACE TEMP {{.Kind}} {{.Into}} AS
WITH h AS (
    -- a stage the stages table does not know counts as open, as in pipeline_at
    SELECT h.opportunity_id, h.stage, h.entered_at, local_day(h.entered_at) AS entered_on, s.position,
           coalesce(s.is_closed, false) AS is_closed, d.created_on, d.closed_on
    FROM live.opportunity_stages h
    LEFT JOIN pl_stages s ON s.stage = h.stage
    JOIN {{.Deals}} d ON d.opportunity_id = h.opportunity_id
)
SELECT *, lead(entered_on) OVER w AS next_on, row_number() OVER w = 1 AS is_first
FROM h
WINDOW w AS (PARTITION BY opportunity_id ORDER BY entered_at, position NULLS FIRST, stage);
