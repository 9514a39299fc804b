-- The deals behind a point of the forecast trend ($point = the month-end
-- 'YYYY-MM-DD' the forecast was made on; NULL = the models' as-of date): open
-- on that day and expected to close in the following 3 months. (The point
-- itself counts the deals as pipeline_at rebuilds them from the stage
-- history, for the rep each names: a deal whose history says it was closed
-- by then, or that names no rep for a scope short of everything, is listed
-- here but not counted there.)
SELECT o.opportunity_id, o.customer_id, o.customer_name, o.owner_rep_id AS rep_id, r.name AS rep_name, u.name AS org_unit, o.created_on,
       o.expected_close_on, o.closed_on, o.status, o.stage, o.currency, o.amount, o.amount_base
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
LEFT JOIN live.reps r ON r.rep_id = o.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = o.owner_org
WHERE scoped.under_any(o.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
  AND o.created_on <= CAST(coalesce($point, $models_as_of, $as_of) AS DATE)
  AND (o.closed_on IS NULL OR o.closed_on > CAST(coalesce($point, $models_as_of, $as_of) AS DATE))
  AND o.expected_close_on > CAST(coalesce($point, $models_as_of, $as_of) AS DATE)
  AND o.expected_close_on <= last_day(CAST(coalesce($point, $models_as_of, $as_of) AS DATE) + INTERVAL 3 MONTH)
ORDER BY o.expected_close_on, o.amount_base DESC
