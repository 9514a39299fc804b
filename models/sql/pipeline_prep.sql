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

-- pl_deal_stages (each deal's stages, days in them) and pl_deal_reach follow:
-- pipeline_deal_stages.sql, from the stage history directly or from the
-- per-deal cache kept across refreshes (models/pipeline.go, dealStagesCache).
