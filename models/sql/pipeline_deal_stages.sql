-- The stages each deal went through, with the days it spent in them, into
-- a temp table (.Into: pl_deal_stages) for the deals of a table (.Deals:
-- pl_deals, or some of them for the per-deal cache, models/pipeline.go
-- dealStagesCache). .Until is the day an open deal's current stay runs until:
-- as_of, or for the cache a far day that each refresh moves back to its
-- as_of (when nothing is dated after as_of, only those stays depend on it).

-- pl_stage_events: the stage history up to as_of. A deal with no history row
-- on or before as_of gets one synthetic row at created_at (its current stage if
-- that is an open stage, else the first open stage); a closed deal whose history
-- has no closed stage gets a synthetic closing row on closed_on (the first win
-- stage for won, the first other closed stage for lost). Each row carries its
-- deal's closed_on for pl_stage_visits.
-- The opening rows come from the same join as the history (a deal without a
-- matching row): an anti join of the deals with the 28 M history rows of a
-- large company cost seconds.
CREATE OR REPLACE TEMP VIEW pl_stage_events AS
WITH first_open AS (
    SELECT stage FROM pl_stages WHERE NOT is_closed ORDER BY position, stage LIMIT 1
),
deals AS (
    SELECT d.opportunity_id, d.created_at, d.created_on, d.closed_on,
           coalesce(os.stage, (SELECT stage FROM first_open)) AS opening_stage
    FROM {{.Deals}} d LEFT JOIN pl_stages os ON os.stage = d.current_stage AND NOT os.is_closed
),
hist AS (
    -- "entered on or before as_of" as a comparison with the day boundary in
    -- the session time zone, the same as CAST(entered_at AS DATE) <= as_of.
    -- entered_on is computed once, here, for everything below (local_day,
    -- prep.sql: even without ICU it is 28 M rows on a large company)
    SELECT d.opportunity_id,
           CASE WHEN h.opportunity_id IS NULL THEN d.opening_stage ELSE h.stage END AS stage,
           coalesce(h.entered_at, d.created_at) AS entered_at,
           CASE WHEN h.opportunity_id IS NULL THEN d.created_on ELSE local_day(h.entered_at) END AS entered_on,
           h.opportunity_id IS NULL AS synthetic, d.closed_on
    FROM deals d
    LEFT JOIN (SELECT opportunity_id, stage, entered_at FROM live.opportunity_stages
               WHERE entered_at < getvariable('day_after_as_of')) h ON h.opportunity_id = d.opportunity_id
),
closing AS (
    -- A synthetic opening row is never in a closed stage, so "its history
    -- has no closed stage" asks the history rows of the closed stages alone
    -- (a filter on the stage) instead of hist again: hist is not
    -- materialised, and joining it a second time cost 4 s of a large
    -- company's full refresh (24 s against 19.5 s).
    SELECT d.opportunity_id,
           (SELECT s.stage FROM pl_stages s WHERE s.is_closed AND s.is_win = (d.status = 'won') ORDER BY s.position, s.stage LIMIT 1) AS stage,
           CAST(d.closed_on AS TIMESTAMPTZ) AS entered_at, d.closed_on AS entered_on, true AS synthetic, d.closed_on
    FROM {{.Deals}} d
    WHERE d.status <> 'open'
      AND NOT EXISTS (SELECT 1 FROM live.opportunity_stages h
                      WHERE h.opportunity_id = d.opportunity_id AND h.entered_at < getvariable('day_after_as_of')
                        AND h.stage IN (SELECT stage FROM pl_stages WHERE is_closed))
),
ev AS (
    -- a deal without history and without an open stage to start in has no row
    SELECT * FROM hist WHERE stage IS NOT NULL OR NOT synthetic
    UNION ALL SELECT * FROM closing WHERE stage IS NOT NULL
)
SELECT ev.opportunity_id, ev.stage, s.position,
       coalesce(s.is_closed, lower(ev.stage) IN ('won', 'lost')) AS is_closed,
       coalesce(s.is_win, lower(ev.stage) = 'won') AS is_win,
       s.default_probability, ev.entered_at, ev.entered_on, ev.synthetic, ev.closed_on
FROM ev LEFT JOIN pl_stages s ON s.stage = ev.stage;

-- pl_stage_visits: each stay in a stage, with the whole days until the next
-- stage was entered (an open deal's current stay runs until as_of; a closed
-- deal whose history lacks the closing row stops on closed_on). Closed stages
-- have no duration.
-- Only the columns it needs go through the window's sort (is_win and
-- default_probability follow from the stage: join pl_stages for them).
-- may_reenter is false when the deal's stages are all different (then each
-- visit is its own row of pl_deal_stages and needs no grouping): the popcount
-- of a sum of powers of two equals the number of terms exactly when no two
-- are equal (2^k + 2^k carries). The exponent is a hash of the stage, so two
-- stages may share one: that only sends the deal through the grouping.
CREATE OR REPLACE TEMP VIEW pl_stage_visits AS
SELECT e.opportunity_id, e.stage, e.position, e.is_closed, e.entered_at, e.entered_on,
       CASE WHEN e.is_closed THEN NULL
            ELSE date_diff('day', e.entered_on,
                    greatest(e.entered_on, coalesce(lead(e.entered_on) OVER w, e.closed_on, {{.Until}})))
       END AS days,
       lead(e.entered_on) OVER w IS NULL AS is_last,
       -- the furthest open stage the deal reached (same partition and order,
       -- so no second sort)
       max(e.position) FILTER (WHERE NOT e.is_closed) OVER whole AS max_open_position,
       count(*) OVER whole
         <> bit_count(sum(CAST(1 AS BIGINT) << CAST(hash(e.stage) % 62 AS INTEGER))
                      OVER whole) AS may_reenter
FROM pl_stage_events e
-- Rows entered at one instant: an unknown stage (no position) first, so that
-- the known stage is the current one, as in pipeline_at (mart_pipeline) and
-- the forecast snapshots.
WINDOW w AS (PARTITION BY e.opportunity_id ORDER BY e.entered_at, e.position NULLS FIRST, e.stage),
       whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);

-- pl_deal_stages: one row per deal and stage entered (a stage entered twice
-- counts once), with the first entry and the total days spent in it.
-- is_current marks the stage of the deal's latest visit, with that visit's
-- entry day and days (the stalled-deal alert); max_open_position, the same on
-- every row of a deal, is the furthest open stage it reached. pl_stage_events and
-- pl_stage_visits are views: only this table is stored, one row per deal and
-- stage instead of three copies of the stage history. Only the visits of deals
-- that entered a stage twice are grouped (hashing 28 M visits of a large
-- company by deal and stage cost 5 s; nearly every deal moves forward only),
-- and the stage's attributes are joined after (they depend on the stage alone).
-- days stays a BIGINT (a sum of BIGINTs is a HUGEINT): DuckDB 1.5 reads a
-- stored HUGEINT column slowly (summing the cache's 28.6 M days of a large
-- company took 2.6 s, an INTEGER column of the same rows 0.04 s), and every
-- pipeline model reads it.
CREATE OR REPLACE TEMP TABLE {{.Into}} AS
WITH v AS MATERIALIZED (
    SELECT opportunity_id, stage, entered_on, days, is_last, max_open_position, may_reenter
    FROM pl_stage_visits
),
per_stage AS (
    SELECT opportunity_id, stage, entered_on AS first_entered_on, entered_on AS last_entered_on, days,
           is_last AS is_current,
           CASE WHEN is_last THEN entered_on END AS current_entered_on,
           CASE WHEN is_last THEN days END AS current_days,
           max_open_position
    FROM v WHERE NOT may_reenter
    UNION ALL
    SELECT opportunity_id, stage,
           min(entered_on), max(entered_on), CAST(sum(days) AS BIGINT),
           bool_or(is_last),
           max(entered_on) FILTER (WHERE is_last),
           max(days) FILTER (WHERE is_last),
           any_value(max_open_position)
    FROM v WHERE may_reenter GROUP BY opportunity_id, stage
)
SELECT g.opportunity_id, g.stage, s.position,
       coalesce(s.is_closed, lower(g.stage) IN ('won', 'lost')) AS is_closed,
       coalesce(s.is_win, lower(g.stage) = 'won') AS is_win,
       s.default_probability, g.first_entered_on, g.last_entered_on, g.days,
       g.is_current, g.current_entered_on, g.current_days, g.max_open_position
FROM per_stage g LEFT JOIN pl_stages s ON s.stage = g.stage;

