-- Win rate: deals closed (won or lost, closed_on <= as_of) counted by every
-- dimension, over all time and per closing month, with a Wilson 95 % interval;
-- win rate by the furthest stage reached; close reasons ranked.
-- Inputs: the pl_* tables of pipeline_prep.sql.

-- Closed deals are counted once per dimension with GROUPING SETS (one scan),
-- per closing month; period 'all' is the sum of the months; org units are the
-- owner rep's unit rolled up the tree through facts.org_paths. Every dimension
-- value is coalesced to '(none)', so in each grouping set exactly one of the
-- dimension columns is not NULL (all are NULL in the set of dimension 'all').
CREATE OR REPLACE TEMP TABLE pl_win_months AS
WITH closed AS (
    SELECT status, amount_base, strftime(closed_on, '%Y-%m') AS month,
           coalesce(owner_rep_id, '(none)') AS rep, coalesce(partner_id, '(none)') AS partner,
           coalesce(product_id, '(none)') AS product, coalesce(product_line, '(none)') AS product_line,
           coalesce(industry, '(none)') AS industry, coalesce(source, '(none)') AS source,
           coalesce(campaign_id, '(none)') AS campaign, coalesce(competitor, '(none)') AS competitor,
           coalesce(rep_org_unit_id, '') AS org_unit
    FROM pl_deals WHERE status IN ('won', 'lost')
),
sets AS (
    SELECT CASE WHEN rep IS NOT NULL THEN 'rep' WHEN partner IS NOT NULL THEN 'partner'
                WHEN product IS NOT NULL THEN 'product' WHEN product_line IS NOT NULL THEN 'product_line'
                WHEN industry IS NOT NULL THEN 'industry' WHEN source IS NOT NULL THEN 'source'
                WHEN campaign IS NOT NULL THEN 'campaign' WHEN competitor IS NOT NULL THEN 'competitor'
                WHEN org_unit IS NOT NULL THEN 'org_unit' ELSE 'all' END AS dimension,
           coalesce(rep, partner, product, product_line, industry, source, campaign, competitor, org_unit, 'all') AS dimension_value,
           month,
           count(*) FILTER (WHERE status = 'won') AS won,
           count(*) FILTER (WHERE status = 'lost') AS lost,
           coalesce(sum(amount_base) FILTER (WHERE status = 'won'), 0) AS won_amount,
           coalesce(sum(amount_base) FILTER (WHERE status = 'lost'), 0) AS lost_amount
    FROM closed
    GROUP BY GROUPING SETS ((month), (rep, month), (partner, month), (product, month), (product_line, month),
                            (industry, month), (source, month), (campaign, month), (competitor, month), (org_unit, month))
)
SELECT * FROM sets WHERE dimension <> 'org_unit'
UNION ALL
SELECT 'org_unit', oc.ancestor_id, s.month, sum(s.won), sum(s.lost), sum(s.won_amount), sum(s.lost_amount)
FROM sets s JOIN facts.org_paths oc ON oc.org_unit_id = s.dimension_value
WHERE s.dimension = 'org_unit'
GROUP BY ALL;

CREATE OR REPLACE TABLE mart_win_rate AS
WITH counts AS (
    SELECT dimension, dimension_value, month AS period, won, lost, won_amount, lost_amount FROM pl_win_months
    UNION ALL
    SELECT dimension, dimension_value, 'all', sum(won), sum(lost), sum(won_amount), sum(lost_amount)
    FROM pl_win_months GROUP BY ALL
),
wilson AS (
    SELECT *, won + lost AS n, CAST(won AS DOUBLE) / (won + lost) AS p, 1.959964 AS z FROM counts
)
SELECT dimension, dimension_value, period,
       CAST(won AS BIGINT) AS won, CAST(lost AS BIGINT) AS lost,
       p AS win_rate,
       CAST(won_amount AS DECIMAL(18,2)) AS won_amount,
       CAST(lost_amount AS DECIMAL(18,2)) AS lost_amount,
       CAST(won_amount AS DOUBLE) / nullif(won_amount + lost_amount, 0) AS amount_win_rate,
       (p + z * z / (2 * n) - z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS ci_low,
       (p + z * z / (2 * n) + z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS ci_high,
       getvariable('as_of') AS as_of
FROM wilson
ORDER BY dimension, dimension_value, period;
COMMENT ON TABLE mart_win_rate IS 'Win rate of deals closed on or before as_of: won / (won + lost) by count and by amount (base currency), by dimension, over all time (period = all) and per closing month (period = YYYY-MM), with a Wilson 95 % interval.';
COMMENT ON COLUMN mart_win_rate.dimension IS 'all, org_unit (the owner rep''s unit and every unit above it), rep, partner, product, product_line, industry, source, campaign, competitor.';
COMMENT ON COLUMN mart_win_rate.dimension_value IS 'The key in that dimension (org_unit_id, rep_id, partner_id, product_id, campaign_id, or the text value); (none) where the deal has no value; all for dimension all.';
COMMENT ON COLUMN mart_win_rate.period IS 'all, or the month of closed_on as YYYY-MM.';
COMMENT ON COLUMN mart_win_rate.win_rate IS 'won / (won + lost).';
COMMENT ON COLUMN mart_win_rate.amount_win_rate IS 'won_amount / (won_amount + lost_amount); NULL when both are 0.';
COMMENT ON COLUMN mart_win_rate.ci_low IS 'Lower bound of the Wilson score interval for win_rate at 95 % (z = 1.959964).';
COMMENT ON COLUMN mart_win_rate.ci_high IS 'Upper bound of the Wilson score interval for win_rate at 95 %.';

CREATE OR REPLACE TABLE mart_win_rate_by_stage AS
WITH d AS (SELECT d.opportunity_id, d.status, r.max_open_position FROM pl_deals d JOIN pl_deal_reach r USING (opportunity_id))
SELECT s.stage, s.position,
       count(d.opportunity_id) AS reached,
       count(d.opportunity_id) FILTER (WHERE d.status = 'won') AS won,
       count(d.opportunity_id) FILTER (WHERE d.status = 'lost') AS lost,
       CAST(count(d.opportunity_id) FILTER (WHERE d.status = 'won') AS DOUBLE)
         / nullif(count(d.opportunity_id) FILTER (WHERE d.status IN ('won', 'lost')), 0) AS win_rate
FROM pl_stages s
LEFT JOIN d ON d.max_open_position >= s.position
WHERE NOT s.is_closed
GROUP BY s.stage, s.position
ORDER BY s.position, s.stage;
COMMENT ON TABLE mart_win_rate_by_stage IS 'Win rate by the furthest open stage reached (stage history up to as_of): reached = deals whose furthest open stage is this one or a later one, whatever their status; won and lost = those of them closed by as_of; win_rate = won / (won + lost), the chance that a deal which got this far is won.';

CREATE OR REPLACE TABLE mart_close_reasons AS
WITH r AS (
    SELECT status, coalesce(close_reason, '(none)') AS reason, count(*) AS deals,
           CAST(coalesce(sum(amount_base), 0) AS DECIMAL(18,2)) AS amount
    FROM pl_deals WHERE status IN ('won', 'lost') GROUP BY ALL
)
SELECT status, reason, deals, amount,
       rank() OVER (PARTITION BY status ORDER BY deals DESC, amount DESC) AS rank
FROM r ORDER BY status DESC, rank, reason;
COMMENT ON TABLE mart_close_reasons IS 'Why deals closed on or before as_of were won or lost: deals and amount (base currency) per reason, ranked within won and within lost by deals then amount.';
