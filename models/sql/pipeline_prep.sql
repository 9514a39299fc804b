-- Shared inputs of the pipeline models (win_rate, funnel, pipeline, forecast,
-- collision, alerts), computed once per refresh on top of prep.sql. All are
-- TEMP tables prefixed pl_. Nothing dated after as_of is seen. The org tree
-- is the facts' (facts.org_paths: every unit with itself and each of its
-- ancestors, once); base tables without facts are read through schema live.

-- pl_stages: the stage list with a win flag. A closed stage is a win stage
-- when its default probability is above 0 (won = 100, lost = 0); with no
-- default probability the name decides (contains "won").
CREATE OR REPLACE TEMP TABLE pl_stages AS
SELECT stage, position, default_probability, is_closed,
       is_closed AND coalesce(default_probability > 0, lower(stage) LIKE '%won%') AS is_win
FROM live.stages;

-- pl_deals: one row per opportunity created on or before as_of, with the
-- attributes the dimensions need (base_opportunities: the facts). status and
-- closed_on are as of as_of: a deal closed after as_of is open here.
-- The pipeline models count a deal for the rep the deal names (owner_rep_id
-- here is the facts' rep_id, NULL when the deal names none) and in that rep's
-- unit (rep_org_unit_id): the funnel, win rate, forecast and collisions
-- measure the sales organisation's reps, so a deal without a rep counts for
-- the company only ('all'), not for its customer's owner as in the scope rule
-- (facts' owner_rep_id, owner_org). Likewise source is the deal's own
-- (deal_source), not the customer's. created_on is the facts' day of
-- created_at: local_day(created_at) of prep.sql, in the same time zone
-- (facts.state.time_zone; the refresh rebuilds the facts in another).
CREATE OR REPLACE TEMP TABLE pl_deals AS
SELECT o.opportunity_id, o.customer_id, o.rep_id AS owner_rep_id, o.rep_org AS rep_org_unit_id,
       o.partner_id, o.product_id, o.product_line, o.industry, o.deal_source AS source, o.campaign_id,
       o.competitor, o.close_reason, o.amount_base, o.stage AS current_stage,
       o.created_at, o.created_on, o.expected_close_on,
       CASE WHEN o.status IN ('won', 'lost') AND o.closed_on <= getvariable('as_of') THEN o.closed_on END AS closed_on,
       CASE WHEN o.status IN ('won', 'lost') AND o.closed_on <= getvariable('as_of') THEN o.status ELSE 'open' END AS status
FROM base_opportunities o;

-- pl_deal_org (a view, for analysts; the models roll up per owner unit
-- through facts.org_paths instead): the org units a deal counts in: 'all' (the whole company, also
-- deals with no owner rep) and the owner rep's unit with every ancestor.
CREATE OR REPLACE TEMP VIEW pl_deal_org AS
SELECT opportunity_id, 'all' AS org_unit_id FROM pl_deals
UNION ALL
SELECT d.opportunity_id, c.ancestor_id
FROM pl_deals d JOIN facts.org_paths c ON c.org_unit_id = d.rep_org_unit_id;

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
    FROM pl_deals d LEFT JOIN pl_stages os ON os.stage = d.current_stage AND NOT os.is_closed
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
    SELECT d.opportunity_id,
           (SELECT s.stage FROM pl_stages s WHERE s.is_closed AND s.is_win = (d.status = 'won') ORDER BY s.position, s.stage LIMIT 1) AS stage,
           CAST(d.closed_on AS TIMESTAMPTZ) AS entered_at, d.closed_on AS entered_on, true AS synthetic, d.closed_on
    FROM pl_deals d
    WHERE d.status <> 'open'
      AND NOT EXISTS (SELECT 1 FROM hist h JOIN pl_stages s ON s.stage = h.stage
                      WHERE h.opportunity_id = d.opportunity_id AND s.is_closed)
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
                    greatest(e.entered_on, coalesce(lead(e.entered_on) OVER w, e.closed_on, getvariable('as_of'))))
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
CREATE OR REPLACE TEMP TABLE pl_deal_stages AS
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
           min(entered_on), max(entered_on), sum(days),
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

-- pl_deal_reach: per deal, the furthest open stage position reached by as_of
-- (NULL for a deal with no stage). Every row of a deal in pl_deal_stages
-- carries it; the deal's current row is one per deal.
CREATE OR REPLACE TEMP TABLE pl_deal_reach AS
SELECT d.opportunity_id, ds.max_open_position
FROM pl_deals d LEFT JOIN pl_deal_stages ds ON ds.opportunity_id = d.opportunity_id AND ds.is_current;
