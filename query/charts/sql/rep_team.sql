-- The reps in the user's scope below the org filter (a rep sees only
-- themselves), with their figures: bookings and collections in the period,
-- open pipeline now, win rate of the deals closed in the period, activities
-- logged in the period and open deals stalled in their stage. Reps with none of
-- these are left out.
WITH reps AS (
    SELECT r.rep_id, r.name AS rep_name, r.org_unit_id, u.name AS org_unit
    FROM live.reps r LEFT JOIN live.org_units u ON u.org_unit_id = r.org_unit_id
    WHERE scoped.sees(r.rep_id, r.org_unit_id, $scope_all, $scope_org, $scope_rep)
      AND scoped.under_any(r.org_unit_id, $orgs)
),
c AS (
    SELECT c.owner_rep_id AS rep_id, sum(c.amount_base) AS bookings
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
    GROUP BY 1
),
p AS (   -- whole months summed (scoped.collections_in)
    SELECT p.owner_rep_id AS rep_id, sum(p.amount_base) AS collections
    FROM scoped.collections_in($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE)) p
    WHERE ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
    GROUP BY 1
),
o AS (
    SELECT o.owner_rep_id AS rep_id,
           sum(o.amount_base) FILTER (WHERE o.status = 'open') AS pipeline,
           count(*) FILTER (WHERE o.status = 'won' AND o.closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)) AS won,
           count(*) FILTER (WHERE o.status = 'lost' AND o.closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)) AS lost
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    WHERE ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
    GROUP BY 1
),
s AS (
    SELECT o.owner_rep_id AS rep_id, count(*) AS stalled
    FROM scoped.mart_pipeline($scope_all, $scope_org, $scope_rep) pl
    JOIN scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o ON o.opportunity_id = pl.opportunity_id
    JOIN scoped.benchmark_stage_days($scope_all, $scope_org, $scope_rep) f ON f.stage = pl.stage
    WHERE ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
      AND o.status = 'open' AND pl.days_in_stage > 2 * greatest(coalesce(f.days_median, 1), 1)
    GROUP BY 1
),
a AS (
    SELECT a.rep_id, count(*) AS activities
    FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a
    WHERE a.occurred_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
    GROUP BY 1
)
SELECT r.rep_id, r.rep_name, r.org_unit,
       CAST(coalesce(c.bookings, 0) AS DOUBLE) AS bookings, CAST(coalesce(p.collections, 0) AS DOUBLE) AS collections,
       CAST(coalesce(o.pipeline, 0) AS DOUBLE) AS pipeline,
       CAST(o.won AS DOUBLE) / nullif(o.won + o.lost, 0) AS win_rate,
       coalesce(a.activities, 0) AS activities, coalesce(s.stalled, 0) AS stalled
FROM reps r
LEFT JOIN c ON c.rep_id = r.rep_id
LEFT JOIN p ON p.rep_id = r.rep_id
LEFT JOIN o ON o.rep_id = r.rep_id
LEFT JOIN s ON s.rep_id = r.rep_id
LEFT JOIN a ON a.rep_id = r.rep_id
WHERE coalesce(c.bookings, 0) <> 0 OR coalesce(p.collections, 0) <> 0 OR coalesce(o.pipeline, 0) <> 0
   OR coalesce(o.won, 0) + coalesce(o.lost, 0) > 0 OR coalesce(a.activities, 0) > 0
ORDER BY bookings DESC, collections DESC, r.rep_id
