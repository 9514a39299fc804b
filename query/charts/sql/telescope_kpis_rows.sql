-- The rows behind a Telescope tile ($point = bookings, collections, pipeline,
-- coverage or win_rate; NULL = all of them): contracts signed, payments received,
-- open deals, or deals closed in the period.
SELECT 'contracts' AS entity, c.contract_id AS record_id, c.signed_on AS date, c.customer_name,
       r.name AS rep_name, u.name AS org_unit, c.product_line, c.status, c.currency, c.amount, c.amount_base
FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
LEFT JOIN live.reps r ON r.rep_id = c.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = c.owner_org
WHERE scoped.under_any(c.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
  AND coalesce($point, 'bookings') = 'bookings'
  AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
UNION ALL
SELECT 'payments', p.payment_id, p.paid_on, p.customer_name, r.name, u.name, p.product_line, p.method,
       p.currency, p.amount, p.amount_base
FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
LEFT JOIN live.reps r ON r.rep_id = p.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = p.owner_org
WHERE scoped.under_any(p.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
  AND coalesce($point, 'collections') = 'collections'
  AND p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
UNION ALL
SELECT 'opportunities', o.opportunity_id, coalesce(o.closed_on, o.expected_close_on), o.customer_name, r.name, u.name,
       o.product_line, CASE WHEN o.status = 'open' THEN o.stage ELSE o.status END, o.currency, o.amount, o.amount_base
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
LEFT JOIN live.reps r ON r.rep_id = o.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = o.owner_org
WHERE scoped.under_any(o.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
  AND (($point IS NULL OR $point = 'pipeline') AND o.status = 'open'
       OR $point = 'coverage' AND o.status = 'open' AND o.expected_close_on > CAST($as_of AS DATE)
          AND o.expected_close_on <= last_day(CAST($as_of AS DATE) + INTERVAL 3 MONTH)
       OR ($point IS NULL OR $point = 'win_rate') AND o.status IN ('won', 'lost')
          AND o.closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
ORDER BY date DESC, record_id
