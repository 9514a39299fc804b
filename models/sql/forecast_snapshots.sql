-- The open pipeline at every date of pl_fc_dates(t) in one pass: row for row
-- what pipeline_at(t) returns for each t (forecast_test.go checks this), but
-- from pl_deals and the stage history read once instead of rebuilding
-- pipeline_at per date (39 rebuilds took most of the forecast's time).
-- Each history row is the deal's stage from its day (entered_on) until the day
-- the next row was entered (next_on): pl_stage_history, in pipeline_at's
-- "latest" order (pipeline_stage_history.sql; kept per deal across refreshes
-- with pl_deal_stages).

-- A view (.Into: pl_fc_snap) of the deals of .Deals (pl_deals) with their
-- history .History (pl_stage_history) at the dates of .Dates (pl_fc_dates);
-- the forecast's cache of the sums (models/forecast.go, cachedSums) names
-- the deals and history the cache holds and those recomputed beside it.
-- forecast_snapshot_sums.sql reads it once.
CREATE OR REPLACE TEMP VIEW {{.Into}} AS
WITH seq AS (
    -- the stage history in each deal's order (pipeline_stage_history.sql)
    SELECT * FROM {{.History}}
),
held AS (
    -- the days on which a row holds while its deal is in open_at (created by
    -- then and not closed): only those pairs can be looked up below, and
    -- leaving out the rest (a closed deal's last row holds for ever) keeps the
    -- date join to about one pair per open deal and date
    SELECT opportunity_id, stage, entered_on, is_closed,
           greatest(entered_on, created_on) AS held_from,
           least(coalesce(next_on, DATE '9999-12-31'), coalesce(closed_on, DATE '9999-12-31')) AS held_until
    FROM seq
),
latest AS (
    -- the history row that holds at the end of day t
    -- (an equality join on the month, then the exact test: a range join of
    -- every history row with every date sorts them all)
    SELECT t.t, s.opportunity_id, s.stage, s.entered_on, s.is_closed
    FROM (
        SELECT *, unnest(range(greatest(year(held_from) * 12 + month(held_from) - 1, (SELECT min(year(t) * 12 + month(t) - 1) FROM {{.Dates}})),
                               least(year(held_until) * 12 + month(held_until) - 1, (SELECT max(year(t) * 12 + month(t) - 1) FROM {{.Dates}})) + 1)) AS month_index
        FROM held WHERE held_until > held_from
    ) s
    JOIN {{.Dates}} t ON year(t.t) * 12 + month(t.t) - 1 = s.month_index AND s.held_from <= t.t AND s.held_until > t.t
),
earliest AS (
    -- the first history row as pipeline_at's "earliest" orders them, where an
    -- unknown stage comes last at a tie: seq's first row, unless that is an
    -- unknown stage and a known one was entered at the same instant (rare:
    -- only a stage history loaded before its stages, or a stage deleted
    -- later, has unknown stages; those few deals are looked up again rather
    -- than every deal paying for a second order in the window)
    SELECT opportunity_id, stage, entered_on FROM seq WHERE is_first AND position IS NOT NULL
    UNION ALL
    SELECT f.opportunity_id, coalesce(k.stage, f.stage), f.entered_on
    FROM (SELECT opportunity_id, stage, entered_at, entered_on FROM seq WHERE is_first AND position IS NULL) f
    LEFT JOIN (
        SELECT s.opportunity_id, first(s.stage ORDER BY s.position, s.stage) AS stage
        FROM seq s
        SEMI JOIN (SELECT opportunity_id, entered_at FROM seq WHERE is_first AND position IS NULL) u
            ON u.opportunity_id = s.opportunity_id AND u.entered_at = s.entered_at
        WHERE s.position IS NOT NULL
        GROUP BY s.opportunity_id
    ) k ON k.opportunity_id = f.opportunity_id
),
first_open AS (
    SELECT stage FROM pl_stages WHERE NOT is_closed ORDER BY position, stage LIMIT 1
),
-- A deal is in the pipeline at t when it was created by t and not closed by t
-- (pl_deals) and its history does not say it was closed then. From its first
-- history row on, exactly one row holds on every day (each until the next
-- was entered), so the deal at t is either one of latest's pairs (held_from
-- and held_until keep those to the days the deal is open), or open before its
-- first history row (or with none): then its first row's stage counts, else
-- its current stage (the first open stage when that is closed).
in_history AS (
    SELECT t, opportunity_id, stage AS stage_at FROM latest WHERE NOT is_closed
),
before_history AS (
    SELECT t.t, d.opportunity_id, d.stage_at
    FROM (
        -- only a deal created before its first history row (or without one)
        -- and before it closed can be here: leaving the others out before the
        -- date join keeps it from comparing every deal with every date
        SELECT d.opportunity_id, d.created_on,
               least(coalesce(d.closed_on, DATE '9999-12-31'), coalesce(e.entered_on, DATE '9999-12-31')) AS open_until,
               CASE WHEN e.opportunity_id IS NOT NULL THEN e.stage
                    WHEN coalesce(cs.is_closed, false) THEN (SELECT stage FROM first_open)
                    ELSE d.current_stage END AS stage_at
        FROM {{.Deals}} d
        LEFT JOIN earliest e ON e.opportunity_id = d.opportunity_id
        LEFT JOIN pl_stages cs ON cs.stage = d.current_stage
        WHERE d.created_on < open_until
    ) d
    JOIN {{.Dates}} t ON d.created_on <= t.t AND d.open_until > t.t
),
placed AS (
    SELECT p.t, p.stage_at, d.opportunity_id, d.created_on, d.amount_base, d.expected_close_on, d.rep_org_unit_id,
           d.owner_rep_id, d.product_line,
           CASE WHEN d.status = 'won' THEN year(d.closed_on) * 12 + month(d.closed_on) - 1 END AS won_month
    FROM (SELECT * FROM in_history UNION ALL SELECT * FROM before_history) p
    JOIN {{.Deals}} d ON d.opportunity_id = p.opportunity_id
)
SELECT p.t, p.opportunity_id, p.stage_at AS stage, CAST(date_diff('day', p.created_on, p.t) AS INTEGER) AS age_days,
       CAST(coalesce(p.amount_base, 0) AS DOUBLE) AS amount, CAST(s.default_probability AS DOUBLE) AS probability,
       p.expected_close_on,
       -- for forecast_snapshot_sums.sql
       coalesce(p.rep_org_unit_id, '') AS leaf, p.created_on, p.won_month, p.amount_base,
       -- for the pipeline trend (mart_pipeline_trend)
       p.owner_rep_id, p.product_line, s.default_probability
FROM placed p
LEFT JOIN pl_stages s ON s.stage = p.stage_at;
