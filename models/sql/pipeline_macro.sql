-- pipeline_at(d): the open pipeline as it stood at the end of day d, rebuilt
-- from the stage history. An analyst calls it like a table:
--     SELECT stage, sum(amount) FROM pipeline_at(DATE '2025-06-30') GROUP BY stage;
-- A deal is in it when it was created on or before d, its latest stage entered
-- on or before d is not a closed stage, and it was not closed (won/lost with
-- closed_on) on or before d. Its stage is the latest entered on or before d
-- (ties: the higher position); a deal whose history starts after d is in its
-- first recorded stage; a deal with no history at all is in its current stage
-- (or the first open stage if that is a closed one). amount is today's amount
-- in the base currency (amount history is not kept); probability is the
-- default probability of the stage at d, in percent.
-- It reads the facts (facts.opportunities: the live deals with amount_base
-- at the rate of the day they were created, the same as the models') and the
-- live stage history (schema live: without the rows a snapshot load marked
-- deleted). owner_rep_id is the rep the deal names and org_unit_id that
-- rep's unit, as in every pipeline model (pipeline_prep.sql says why);
-- source is the deal's own.
-- Written by the pipeline model (models/pipeline.go). It lives in main (not
-- in the refresh's stage schema): it holds no data, only the definition.
CREATE OR REPLACE MACRO main.pipeline_at(d) AS TABLE
WITH o AS (
    SELECT o.opportunity_id, o.customer_id, o.rep_id AS owner_rep_id, o.rep_org, o.partner_id, o.product_id,
           o.stage, o.amount_base, o.created_on, o.expected_close_on, o.campaign_id, o.deal_source AS source
    FROM facts.opportunities o
    WHERE o.created_at < CAST(CAST(d AS DATE) + 1 AS TIMESTAMPTZ) -- on or before d, without casting every row
      AND NOT (o.status IN ('won', 'lost') AND o.closed_on <= CAST(d AS DATE))
),
h AS (
    SELECT h.opportunity_id, h.stage, h.entered_at, s.position, s.is_closed
    FROM live.opportunity_stages h LEFT JOIN live.stages s ON s.stage = h.stage
    SEMI JOIN o ON o.opportunity_id = h.opportunity_id
),
latest AS (
    SELECT * FROM h WHERE entered_at < CAST(CAST(d AS DATE) + 1 AS TIMESTAMPTZ)
    QUALIFY row_number() OVER (PARTITION BY opportunity_id ORDER BY entered_at DESC, position DESC NULLS LAST, stage DESC) = 1
),
earliest AS (
    SELECT * FROM h
    QUALIFY row_number() OVER (PARTITION BY opportunity_id ORDER BY entered_at, position NULLS LAST, stage) = 1
),
first_open AS (
    SELECT stage FROM live.stages WHERE NOT is_closed ORDER BY position, stage LIMIT 1
),
placed AS (
    SELECT o.*,
           CASE WHEN l.opportunity_id IS NOT NULL THEN l.stage
                WHEN e.opportunity_id IS NOT NULL THEN e.stage
                WHEN coalesce(cs.is_closed, false) THEN (SELECT stage FROM first_open)
                ELSE o.stage END AS stage_at,
           coalesce(l.is_closed, false) AS closed_in_history,
           CASE WHEN l.opportunity_id IS NOT NULL THEN CAST(l.entered_at AS DATE) ELSE o.created_on END AS stage_entered_on
    FROM o
    LEFT JOIN latest l ON l.opportunity_id = o.opportunity_id
    LEFT JOIN earliest e ON e.opportunity_id = o.opportunity_id
    LEFT JOIN live.stages cs ON cs.stage = o.stage
)
SELECT p.opportunity_id, p.customer_id, p.owner_rep_id, p.rep_org AS org_unit_id, p.partner_id, p.product_id,
       p.stage_at AS stage, s.position, p.stage_entered_on,
       date_diff('day', p.stage_entered_on, CAST(d AS DATE)) AS days_in_stage,
       p.amount_base AS amount, s.default_probability AS probability,
       CAST(p.amount_base * s.default_probability / 100 AS DECIMAL(18,2)) AS weighted_amount,
       p.created_on, date_diff('day', p.created_on, CAST(d AS DATE)) AS age_days,
       p.expected_close_on, p.campaign_id, p.source
FROM placed p
LEFT JOIN live.stages s ON s.stage = p.stage_at
WHERE NOT p.closed_in_history;
