-- Funnel (from the stage history, rolled up the org tree), sales velocity and
-- the market funnel. Inputs: the pl_* tables of pipeline_prep.sql.
-- {{.QualifiedStage}} is the stage from which an open deal counts as qualified
-- (models.funnel.qualified_stage, default qualified), spliced as a literal.

-- Deals are first counted per owner unit (the rep's org unit), stage and whole
-- days in the stage (pl_stage_cells: pipeline_stage_cells.sql); the company
-- and every unit above are sums of those cells, and the quantiles come from the day histogram, interpolated exactly
-- as quantile_cont does (x[floor(h)] + (h - floor(h)) * (x[ceil(h)] - x[floor(h)]),
-- h = (n - 1) * q): the same numbers as aggregating each unit's deals, without
-- copying every deal into each of its five units.
CREATE OR REPLACE TABLE mart_funnel AS
WITH fs AS (
    -- the funnel's stages: every open stage and the win stage(s) at the bottom
    SELECT stage, position, default_probability, is_win FROM pl_stages WHERE NOT is_closed OR is_win
),
cells AS (
    -- per owner unit, stage and whole days in the stage: entered, advanced,
    -- dropped, still_open, won, amount, weighted_x100
    -- (pipeline_stage_cells.sql)
    SELECT * FROM pl_stage_cells
),
unit_cells AS (
    SELECT 'all' AS org_unit_id, c.* EXCLUDE (rep_org_unit_id) FROM cells c
    UNION ALL
    SELECT oc.ancestor_id, c.* EXCLUDE (rep_org_unit_id)
    FROM cells c JOIN facts.org_paths oc ON oc.org_unit_id = c.rep_org_unit_id
),
hist AS (
    SELECT org_unit_id, stage, days, sum(entered) AS c FROM unit_cells WHERE days IS NOT NULL GROUP BY ALL
),
cum AS (
    SELECT *, sum(c) OVER (PARTITION BY org_unit_id, stage ORDER BY days) AS cend,
           sum(c) OVER (PARTITION BY org_unit_id, stage) - 1 AS n1
    FROM hist
),
quantiles AS (
    SELECT org_unit_id, stage,
           min(days) FILTER (WHERE cend > floor(n1 * 0.5)) AS m_lo,
           min(days) FILTER (WHERE cend > ceil(n1 * 0.5)) AS m_hi,
           any_value(n1 * 0.5 - floor(n1 * 0.5)) AS m_d,
           min(days) FILTER (WHERE cend > floor(n1 * 0.75)) AS p_lo,
           min(days) FILTER (WHERE cend > ceil(n1 * 0.75)) AS p_hi,
           any_value(n1 * 0.75 - floor(n1 * 0.75)) AS p_d
    FROM cum GROUP BY ALL
),
agg AS (
    SELECT u.org_unit_id, u.stage,
           sum(entered) AS entered, sum(advanced) AS advanced, sum(dropped) AS dropped,
           sum(still_open) AS still_open, sum(won) AS won,
           any_value(CAST(q.m_lo AS DOUBLE) + q.m_d * (q.m_hi - q.m_lo)) AS days_median,
           any_value(CAST(q.p_lo AS DOUBLE) + q.p_d * (q.p_hi - q.p_lo)) AS days_p75,
           sum(amount) AS amount, sum(weighted_x100) / 100 AS weighted_amount
    FROM unit_cells u LEFT JOIN quantiles q USING (org_unit_id, stage)
    GROUP BY ALL
),
orgs AS (
    -- the company and every unit with a deal in its subtree
    SELECT 'all' AS org_unit_id
    UNION
    SELECT c.ancestor_id FROM (SELECT DISTINCT rep_org_unit_id FROM pl_deals) d
    JOIN facts.org_paths c ON c.org_unit_id = d.rep_org_unit_id
)
SELECT orgs.org_unit_id, fs.stage, fs.position,
       coalesce(a.entered, 0) AS entered,
       coalesce(a.advanced, 0) AS advanced,
       coalesce(a.dropped, 0) AS dropped,
       coalesce(a.still_open, 0) AS still_open,
       CASE WHEN fs.is_win THEN NULL ELSE CAST(a.advanced AS DOUBLE) / nullif(a.entered, 0) END AS conversion_next,
       CAST(a.won AS DOUBLE) / nullif(a.entered, 0) AS conversion_won,
       CAST(a.days_median AS DOUBLE) AS days_median,
       CAST(a.days_p75 AS DOUBLE) AS days_p75,
       CAST(coalesce(a.amount, 0) AS DECIMAL(18,2)) AS amount,
       CAST(coalesce(a.weighted_amount, 0) AS DECIMAL(18,2)) AS weighted_amount,
       getvariable('as_of') AS as_of
FROM orgs CROSS JOIN fs
LEFT JOIN agg a ON a.org_unit_id = orgs.org_unit_id AND a.stage = fs.stage
ORDER BY orgs.org_unit_id, fs.position, fs.stage;
COMMENT ON TABLE mart_funnel IS 'Sales funnel from the stage history up to as_of, for the whole company (org_unit_id = all) and every org unit (deals of the reps in its subtree). Per stage: entered = deals that entered it at least once (a skipped stage is not entered; a re-entered stage counts once); advanced = of those, deals that reached a later open stage or were won; dropped = not advanced and lost; still_open = not advanced and open. The win stage is the bottom row (entered = won deals).';
COMMENT ON COLUMN mart_funnel.org_unit_id IS 'all = every deal (also deals with no owner rep); otherwise an org_unit_id, counting the deals of reps in its subtree.';
COMMENT ON COLUMN mart_funnel.conversion_next IS 'advanced / entered: the share that got past this stage (to any later stage or won). Recent deals still open lower it.';
COMMENT ON COLUMN mart_funnel.conversion_won IS 'Won deals / entered.';
COMMENT ON COLUMN mart_funnel.days_median IS 'Median whole days a deal spent in the stage (from entering it to entering the next stage; a deal still in it counts until as_of; a re-entered stage adds up its stays). Interpolated median (quantile_cont).';
COMMENT ON COLUMN mart_funnel.days_p75 IS '75th percentile of the days in stage (quantile_cont).';
COMMENT ON COLUMN mart_funnel.amount IS 'Sum of the amounts (base currency) of the deals that entered the stage.';
COMMENT ON COLUMN mart_funnel.weighted_amount IS 'amount × the stage''s default probability / 100.';

CREATE OR REPLACE TABLE mart_velocity AS
WITH q AS (
    SELECT coalesce((SELECT min(position) FROM pl_stages WHERE stage = {{.QualifiedStage}} AND NOT is_closed),
                    (SELECT min(position) FROM pl_stages WHERE NOT is_closed)) AS qpos,
           NOT EXISTS (SELECT 1 FROM pl_stages) AS no_stages
),
qualified AS (
    -- the day a deal first reached the qualified stage or a later open stage
    -- (the qualifying stage rows are grouped first, then joined to the deals)
    SELECT d.opportunity_id, d.rep_org_unit_id, d.created_on, d.closed_on,
           CASE WHEN q.no_stages THEN d.created_on ELSE f.qualified_on END AS qualified_on
    FROM pl_deals d CROSS JOIN q
    LEFT JOIN (SELECT ds.opportunity_id, min(ds.first_entered_on) AS qualified_on
               FROM pl_deal_stages ds CROSS JOIN q
               WHERE NOT ds.is_closed AND ds.position >= q.qpos
               GROUP BY ds.opportunity_id) f ON f.opportunity_id = d.opportunity_id
),
periods AS (
    SELECT 'all' AS period, getvariable('as_of') AS t
    UNION ALL
    SELECT strftime(m, '%Y-%m'), least(CAST(last_day(m) AS DATE), getvariable('as_of'))
    FROM (SELECT unnest(generate_series(CAST(date_trunc('month', (SELECT min(created_on) FROM pl_deals)) AS TIMESTAMP),
                                        CAST(date_trunc('month', getvariable('as_of')) AS TIMESTAMP), INTERVAL 1 MONTH)) AS m)
),
-- counted per owner unit, then summed for the company and up the tree (means
-- are carried as sums and counts)
-- A qualified deal is open and qualified from greatest(qualified_on,
-- created_on) until closed_on. Every period ends on its month's last day (the
-- as-of month and 'all' on as_of, and nothing is dated later), so "on or
-- before the period end" is "in the period's month or earlier": the count at
-- a period is the running sum of +1 (starts) and -1 (closes) by month, instead
-- of joining every deal with every period by date ranges.
open_moves AS (
    SELECT rep_org_unit_id, year(greatest(qualified_on, created_on)) * 12 + month(greatest(qualified_on, created_on)) AS m, 1 AS move
    FROM qualified WHERE qualified_on IS NOT NULL
    UNION ALL
    -- a deal closed on or before it started never counts: its close falls in
    -- the start's month or earlier and cancels the start
    SELECT rep_org_unit_id, year(greatest(qualified_on, created_on, closed_on)) * 12 + month(greatest(qualified_on, created_on, closed_on)), -1
    FROM qualified WHERE qualified_on IS NOT NULL AND closed_on IS NOT NULL
),
open_net AS (
    SELECT rep_org_unit_id, m, sum(move) AS net FROM open_moves GROUP BY ALL
),
open_leaf AS (
    SELECT n.rep_org_unit_id, p.period, CAST(sum(n.net) AS BIGINT) AS qualified_open
    FROM open_net n JOIN periods p ON n.m <= year(p.t) * 12 + month(p.t)
    GROUP BY ALL
    HAVING sum(n.net) > 0
),
closed_leaf AS (
    SELECT d.rep_org_unit_id, p.period,
           count(*) FILTER (WHERE d.status = 'won') AS won,
           count(*) FILTER (WHERE d.status = 'lost') AS lost,
           sum(d.amount_base) FILTER (WHERE d.status = 'won') AS won_amount,
           count(d.amount_base) FILTER (WHERE d.status = 'won') AS won_with_amount,
           sum(date_diff('day', d.created_on, d.closed_on)) FILTER (WHERE d.status = 'won') AS won_days
    FROM pl_deals d
    CROSS JOIN LATERAL (SELECT unnest(['all', strftime(d.closed_on, '%Y-%m')]) AS period) p
    WHERE d.status IN ('won', 'lost')
    GROUP BY ALL
),
open_q AS (
    SELECT 'all' AS org_unit_id, period, sum(qualified_open) AS qualified_open FROM open_leaf GROUP BY ALL
    UNION ALL
    SELECT oc.ancestor_id, period, sum(qualified_open) FROM open_leaf l JOIN facts.org_paths oc ON oc.org_unit_id = l.rep_org_unit_id GROUP BY ALL
),
closed_units AS (
    SELECT 'all' AS org_unit_id, l.* EXCLUDE (rep_org_unit_id) FROM closed_leaf l
    UNION ALL
    SELECT oc.ancestor_id, l.* EXCLUDE (rep_org_unit_id) FROM closed_leaf l JOIN facts.org_paths oc ON oc.org_unit_id = l.rep_org_unit_id
),
closed AS (
    SELECT org_unit_id, period, sum(won) AS won, sum(lost) AS lost,
           sum(won_amount) / nullif(sum(won_with_amount), 0) AS avg_won_amount,
           CAST(sum(won_days) AS DOUBLE) / nullif(sum(won), 0) AS avg_cycle_days
    FROM closed_units GROUP BY ALL
),
joined AS (
    SELECT coalesce(q.org_unit_id, c.org_unit_id) AS org_unit_id, coalesce(q.period, c.period) AS period,
           coalesce(q.qualified_open, 0) AS qualified_open,
           CAST(c.avg_won_amount AS DOUBLE) AS avg_won_amount,
           CAST(c.won AS DOUBLE) / nullif(c.won + c.lost, 0) AS win_rate,
           CAST(c.avg_cycle_days AS DOUBLE) AS avg_cycle_days
    FROM open_q q FULL OUTER JOIN closed c ON c.org_unit_id = q.org_unit_id AND c.period = q.period
)
SELECT org_unit_id, period, qualified_open, avg_won_amount, win_rate, avg_cycle_days,
       qualified_open * avg_won_amount * win_rate / nullif(avg_cycle_days, 0) AS velocity_per_day,
       getvariable('as_of') AS as_of
FROM joined
ORDER BY org_unit_id, period = 'all' DESC, period;
COMMENT ON TABLE mart_velocity IS 'Sales velocity = qualified_open × avg_won_amount × win_rate / avg_cycle_days (money per day), for the company (all) and every org unit, over all time (period = all, pipeline at as_of) and per month (pipeline at the month end, closes in the month).';
COMMENT ON COLUMN mart_velocity.qualified_open IS 'Open deals at the period end (as_of for all) that had reached the qualified stage (models.funnel.qualified_stage) or a later open stage; once qualified a deal stays qualified while open.';
COMMENT ON COLUMN mart_velocity.avg_won_amount IS 'Mean amount (base currency) of the deals won in the period.';
COMMENT ON COLUMN mart_velocity.win_rate IS 'won / (won + lost) of the deals closed in the period.';
COMMENT ON COLUMN mart_velocity.avg_cycle_days IS 'Mean of closed_on − created_at::DATE (whole days) over the deals won in the period.';

CREATE OR REPLACE TABLE mart_market_funnel AS
WITH ids AS (
    SELECT campaign_id FROM live.campaigns WHERE started_on IS NULL OR started_on <= getvariable('as_of')
    UNION SELECT campaign_id FROM live.activities WHERE campaign_id IS NOT NULL AND occurred_at < getvariable('day_after_as_of')
    UNION SELECT campaign_id FROM pl_deals WHERE campaign_id IS NOT NULL
),
resp AS (
    SELECT campaign_id, count(*) AS n FROM live.activities
    WHERE campaign_id IS NOT NULL AND occurred_at < getvariable('day_after_as_of') GROUP BY ALL
),
opps AS (
    SELECT campaign_id, count(*) AS n, count(*) FILTER (WHERE status = 'won') AS won
    FROM pl_deals WHERE campaign_id IS NOT NULL GROUP BY ALL
),
per AS (
    SELECT i.campaign_id, coalesce(r.n, 0) AS responses, coalesce(o.n, 0) AS opportunities, coalesce(o.won, 0) AS won
    FROM ids i LEFT JOIN resp r USING (campaign_id) LEFT JOIN opps o USING (campaign_id)
),
totals AS (
    SELECT * FROM per
    UNION ALL
    SELECT 'all', sum(responses), sum(opportunities), sum(won) FROM per HAVING count(*) > 0
)
SELECT campaign_id, s.stage, s.position, CAST(s.n AS BIGINT) AS count
FROM totals
CROSS JOIN LATERAL (SELECT unnest(['responses', 'opportunities', 'won']) AS stage,
                           unnest([1, 2, 3]) AS position,
                           unnest([responses, opportunities, won]) AS n) s
ORDER BY campaign_id, s.position;
COMMENT ON TABLE mart_market_funnel IS 'Market funnel per campaign (and all campaigns): responses = activities carrying the campaign_id up to as_of; opportunities = deals created up to as_of with the campaign_id; won = those won by as_of.';
