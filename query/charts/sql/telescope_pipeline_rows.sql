-- The open deals behind a bar of the coverage chart ($point = 'YYYY-MM' of the
-- expected close, or 'slipped'; NULL = the open deals of the next 3 months and the slipped ones).
SELECT o.opportunity_id, o.expected_close_on, o.customer_id, o.customer_name, o.owner_rep_id AS rep_id, r.name AS rep_name, u.name AS org_unit,
       o.stage, o.probability, o.product_line, o.channel, o.created_on, o.currency, o.amount, o.amount_base,
       CAST(o.amount_base * o.probability / 100 AS DECIMAL(18,2)) AS weighted_amount
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
LEFT JOIN live.reps r ON r.rep_id = o.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = o.owner_org
WHERE scoped.under_any(o.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
  AND o.status = 'open'
  AND o.expected_close_on <= last_day(CAST($as_of AS DATE) + INTERVAL 3 MONTH)
  AND ($point IS NULL
       OR $point = 'slipped' AND o.expected_close_on <= CAST($as_of AS DATE)
       OR $point <> 'slipped' AND o.expected_close_on > CAST($as_of AS DATE) AND strftime(o.expected_close_on, '%Y-%m') = $point)
ORDER BY o.expected_close_on, o.amount_base DESC
