-- Telescope headline tiles for the period [$from, $to] (comparison [$cmp_from, $cmp_to]):
-- bookings and collections against target, the open pipeline, the pipeline
-- expected to close in the next 3 months against their target, and the win rate.
-- Targets are those of the unit the page is about ($node, or the rep $node_rep),
-- prorated to the days of the period the data reaches by working days
-- (scoped.targets_in: a stray row dated after the rest moves no target);
-- with a product-line filter there is no target (targets are not per line).
WITH con AS (
    SELECT c.signed_on AS d, c.amount_base AS v
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE scoped.under_any(c.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
),
pay AS (   -- the collections of the period (now) and of the comparison period (cmp), whole months summed
    SELECT 'now' AS k, p.amount_base AS v
    FROM scoped.collections_in($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE)) p
    WHERE scoped.under_any(p.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
    UNION ALL
    SELECT 'cmp', p.amount_base
    FROM scoped.collections_in($scope_all, $scope_org, $scope_rep, CAST($cmp_from AS DATE), CAST($cmp_to AS DATE)) p
    WHERE scoped.under_any(p.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
),
opp AS (   -- the open pipeline now
    SELECT o.*
    FROM scoped.open_pipeline($scope_all, $scope_org, $scope_rep) o
    WHERE scoped.under_any(o.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
),
closed AS (   -- deals won or lost
    SELECT o.*
    FROM scoped.closed_deals($scope_all, $scope_org, $scope_rep) o
    WHERE scoped.under_any(o.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
),
tgt AS (   -- the targets of the coming months (coverage), as set
    SELECT t.metric, t.period_start, t.amount
    FROM scoped.targets($scope_all, $scope_org, $scope_rep) t
    WHERE $product_lines IS NULL
      AND ((t.scope <> 'rep' AND list_contains($units, t.scope_id)) OR (t.scope = 'rep' AND t.scope_id = $node_rep))
),
tgt_in AS (   -- the targets of the period's days to date, prorated by working days (glossary: target)
    SELECT t.metric, t.amount
    FROM scoped.targets_in($scope_all, $scope_org, $scope_rep, $from, $to) t
    WHERE $product_lines IS NULL
      AND ((t.scope <> 'rep' AND list_contains($units, t.scope_id)) OR (t.scope = 'rep' AND t.scope_id = $node_rep))
)
SELECT 'bookings' AS kpi,
       CAST(sum(v) FILTER (WHERE d BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)) AS DOUBLE) AS value,
       CAST((SELECT sum(amount) FROM tgt_in WHERE metric = 'bookings') AS DOUBLE) AS target,
       CAST(sum(v) FILTER (WHERE d BETWEEN CAST($cmp_from AS DATE) AND CAST($cmp_to AS DATE)) AS DOUBLE) AS compare,
       CAST(NULL AS DOUBLE) AS extra
FROM con
UNION ALL
SELECT 'collections',
       CAST(sum(v) FILTER (WHERE k = 'now') AS DOUBLE),
       CAST((SELECT sum(amount) FROM tgt_in WHERE metric = 'collections') AS DOUBLE),
       CAST(sum(v) FILTER (WHERE k = 'cmp') AS DOUBLE),
       NULL
FROM pay
UNION ALL
-- Open pipeline at the as-of date: value = amount, extra = weighted by probability.
SELECT 'pipeline',
       CAST(sum(amount_base) AS DOUBLE), NULL, NULL,
       CAST(sum(weighted_base) AS DOUBLE)
FROM opp
UNION ALL
-- Coverage: open pipeline expected to close in the next 3 months vs the bookings target of those months.
SELECT 'coverage',
       CAST(sum(amount_base) FILTER (WHERE expected_close_on > CAST($as_of AS DATE) AND expected_close_on <= last_day(CAST($as_of AS DATE) + INTERVAL 3 MONTH)) AS DOUBLE),
       CAST((SELECT sum(amount) FROM tgt WHERE metric = 'bookings' AND period_start > CAST($as_of AS DATE)
             AND period_start <= last_day(CAST($as_of AS DATE) + INTERVAL 3 MONTH)) AS DOUBLE),
       NULL,
       CAST(sum(weighted_base) FILTER (WHERE expected_close_on > CAST($as_of AS DATE) AND expected_close_on <= last_day(CAST($as_of AS DATE) + INTERVAL 3 MONTH)) AS DOUBLE)
FROM opp
UNION ALL
-- Win rate of the deals closed in the period (won / (won + lost)), by count.
SELECT 'win_rate',
       count(*) FILTER (WHERE status = 'won' AND closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
         / nullif(count(*) FILTER (WHERE closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)), 0),
       NULL,
       count(*) FILTER (WHERE status = 'won' AND closed_on BETWEEN CAST($cmp_from AS DATE) AND CAST($cmp_to AS DATE))
         / nullif(count(*) FILTER (WHERE closed_on BETWEEN CAST($cmp_from AS DATE) AND CAST($cmp_to AS DATE)), 0),
       CAST(count(*) FILTER (WHERE closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)) AS DOUBLE)
FROM closed
