-- The deals closed in the period ($rep; NULL = every rep in the user's scope
-- below the org filter) with their outcome, reason and competitor. $point:
-- 'r:<reason>' (one close reason, '' = none given); NULL = every closed deal.
SELECT o.opportunity_id, o.closed_on, o.status, o.close_reason, o.competitor, o.customer_name, r.name AS rep_name,
       o.stage, o.created_on, date_diff('day', o.created_on, o.closed_on) AS cycle_days,
       o.product_line, o.currency, o.amount, o.amount_base
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
LEFT JOIN live.reps r ON r.rep_id = o.owner_rep_id
WHERE scoped.under_any(o.owner_org, $orgs) AND ($rep IS NULL OR o.owner_rep_id = $rep)
  AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
  AND o.status IN ('won', 'lost') AND o.closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
  AND ($point IS NULL OR $point = 'r:' || coalesce(o.close_reason, ''))
ORDER BY o.closed_on DESC, o.opportunity_id
