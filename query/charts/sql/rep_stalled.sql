-- Stalled deals: open deals ($rep; NULL = every rep in the user's scope below
-- the org filter) that have been in their current stage for more than twice
-- the company's median days of that stage (the rule of the stalled-deal alert),
-- longest first.
SELECT o.opportunity_id, o.customer_id, o.customer_name, o.owner_rep_id AS rep_id, r.name AS rep_name, o.stage, pl.stage_entered_on, pl.days_in_stage,
       f.days_median AS stage_median_days, o.expected_close_on, o.currency, o.amount, o.amount_base
FROM scoped.mart_pipeline($scope_all, $scope_org, $scope_rep, one_rep := $rep) pl
JOIN scoped.opportunity_facts($scope_all, $scope_org, $scope_rep, one_rep := $rep) o ON o.opportunity_id = pl.opportunity_id
JOIN scoped.benchmark_stage_days($scope_all, $scope_org, $scope_rep) f ON f.stage = pl.stage
LEFT JOIN live.reps r ON r.rep_id = o.owner_rep_id
WHERE scoped.under_any(o.owner_org, $orgs) AND ($rep IS NULL OR o.owner_rep_id = $rep)
  AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
  AND o.status = 'open' AND pl.days_in_stage > 2 * greatest(coalesce(f.days_median, 1), 1)
ORDER BY pl.days_in_stage / greatest(coalesce(f.days_median, 1), 1) DESC, o.opportunity_id
