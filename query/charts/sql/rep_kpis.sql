-- A rep's figures (on /reps/{id}: $rep; on the Microscope overview, $rep is
-- NULL: every rep in the user's scope below the org filter): bookings (contracts
-- signed in the period), collections (payments in the period, refunds netted),
-- the open pipeline now and weighted by probability, the win rate of the deals
-- closed in the period, the activities the rep logged in the period and the open
-- deals stalled in their stage (more than twice the company's median days in it).
WITH c AS (
    SELECT coalesce(sum(c.amount_base), 0) AS v, count(*) AS n
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE scoped.under_any(c.owner_org, $orgs) AND ($rep IS NULL OR c.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
),
p AS (   -- whole months summed (scoped.collections_in)
    SELECT coalesce(sum(p.amount_base), 0) AS v, coalesce(sum(p.payments), 0) AS n
    FROM scoped.collections_in($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE)) p
    WHERE scoped.under_any(p.owner_org, $orgs) AND ($rep IS NULL OR p.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
),
o AS (
    SELECT coalesce(sum(o.amount_base), 0) AS pipeline, coalesce(CAST(sum(o.weighted_base) AS DOUBLE), 0) AS weighted,
           count(*) AS open_deals
    FROM scoped.open_pipeline($scope_all, $scope_org, $scope_rep) o
    WHERE scoped.under_any(o.owner_org, $orgs) AND ($rep IS NULL OR o.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
),
w AS (
    SELECT count(*) FILTER (WHERE o.won) AS won, count(*) FILTER (WHERE NOT o.won) AS lost
    FROM scoped.closed_deals($scope_all, $scope_org, $scope_rep) o
    WHERE scoped.under_any(o.owner_org, $orgs) AND ($rep IS NULL OR o.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
      AND o.closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
),
a AS (   -- activities the rep logged, on customers in the user's scope (an activity belongs to its customer's owner)
    SELECT count(*) AS n, count(DISTINCT a.customer_id) AS customers
    FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a
    WHERE scoped.under_any(a.owner_org, $orgs) AND ($rep IS NULL OR a.rep_id = $rep)
      AND a.occurred_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
),
s AS (   -- stalled: in the current stage for more than 2 × the company's median days of that stage
    SELECT count(*) AS n, coalesce(sum(o.amount_base), 0) AS v
    FROM scoped.mart_pipeline($scope_all, $scope_org, $scope_rep, one_rep := $rep) pl
    JOIN scoped.opportunity_facts($scope_all, $scope_org, $scope_rep, one_rep := $rep) o ON o.opportunity_id = pl.opportunity_id
    JOIN scoped.benchmark_stage_days($scope_all, $scope_org, $scope_rep) f ON f.stage = pl.stage
    WHERE scoped.under_any(o.owner_org, $orgs) AND ($rep IS NULL OR o.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
      AND o.status = 'open' AND pl.days_in_stage > 2 * greatest(coalesce(f.days_median, 1), 1)
)
SELECT 'bookings' AS kpi, CAST(c.v AS DOUBLE) AS value, CAST(c.n AS DOUBLE) AS extra FROM c
UNION ALL SELECT 'collections', CAST(p.v AS DOUBLE), CAST(p.n AS DOUBLE) FROM p
UNION ALL SELECT 'pipeline', CAST(o.pipeline AS DOUBLE), o.weighted FROM o
UNION ALL SELECT 'win_rate', CAST(w.won AS DOUBLE) / nullif(w.won + w.lost, 0), CAST(w.won + w.lost AS DOUBLE) FROM w
UNION ALL SELECT 'activities', CAST(a.n AS DOUBLE), CAST(a.customers AS DOUBLE) FROM a
UNION ALL SELECT 'stalled', CAST(s.n AS DOUBLE), CAST(s.v AS DOUBLE) FROM s
