-- The open deals behind the pipeline charts ($rep; NULL = every rep in the
-- user's scope below the org filter), with the days in their current stage
-- (pipeline model) against the company's median for that stage (funnel model).
-- $point: a stage, 'o:<opportunity_id>' (one deal); NULL = every open deal.
SELECT o.opportunity_id, o.customer_id, o.customer_name, o.owner_rep_id AS rep_id, r.name AS rep_name, o.stage, o.probability, o.created_on,
       pl.stage_entered_on, pl.days_in_stage, f.days_median AS stage_median_days, o.expected_close_on,
       o.product_line, o.competitor, o.currency, o.amount, o.amount_base,
       CAST(o.amount_base * o.probability / 100 AS DECIMAL(18,2)) AS weighted_amount
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
LEFT JOIN scoped.mart_pipeline($scope_all, $scope_org, $scope_rep) pl ON pl.opportunity_id = o.opportunity_id
LEFT JOIN scoped.benchmark_stage_days($scope_all, $scope_org, $scope_rep) f ON f.stage = o.stage
LEFT JOIN live.reps r ON r.rep_id = o.owner_rep_id
WHERE scoped.under_any(o.owner_org, $orgs) AND ($rep IS NULL OR o.owner_rep_id = $rep)
  AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
  AND o.status = 'open'
  AND ($point IS NULL OR $point = o.stage OR $point = 'o:' || o.opportunity_id)
ORDER BY o.amount_base DESC, o.opportunity_id
