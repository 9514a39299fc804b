-- The rows behind a customer's figures ($customer; without one, the customers
-- in the user's scope, payments limited to the period). $point: 'revenue'
-- (payments), 'contracted' (contracts), 'outstanding' (contracts not yet paid
-- in full, with what is still unpaid), 'pipeline' (open deals), 'm:YYYY-MM'
-- (contracts and payments of a month); NULL = payments, contracts and deals.
WITH rows_all AS (
    SELECT 'payments' AS entity, p.payment_id AS record_id, p.paid_on AS date, p.customer_name, p.owner_rep_id, p.owner_org,
           p.contract_id AS reference, p.method AS status, p.currency, p.amount, p.amount_base, CAST(NULL AS DECIMAL(18,2)) AS unpaid_base
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
    WHERE ($customer IS NULL OR p.customer_id = $customer)
      AND ($customer IS NOT NULL OR p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
      AND ($point IS NULL OR $point = 'revenue' OR $point = 'm:' || strftime(p.paid_on, '%Y-%m'))
    UNION ALL
    SELECT 'contracts', c.contract_id, c.signed_on, c.customer_name, c.owner_rep_id, c.owner_org,
           c.opportunity_id, coalesce(x.status, c.status), c.currency, c.amount, c.amount_base, CAST(x.outstanding AS DECIMAL(18,2))
    FROM scoped.contract_facts($scope_all, $scope_org, $scope_rep) c
    LEFT JOIN scoped.mart_contract_execution($scope_all, $scope_org, $scope_rep) x ON x.contract_id = c.contract_id
    WHERE ($customer IS NULL OR c.customer_id = $customer)
      AND ($point IS NULL OR $point = 'm:' || strftime(c.signed_on, '%Y-%m')
           OR $point = 'contracted' AND c.contract_id IN (SELECT b.contract_id FROM scoped.bookings($scope_all, $scope_org, $scope_rep) b)
           OR $point = 'outstanding' AND x.status NOT IN ('cancelled', 'settled') AND x.outstanding > 0)
    UNION ALL
    SELECT 'opportunities', o.opportunity_id, coalesce(o.closed_on, o.expected_close_on), o.customer_name, o.owner_rep_id, o.owner_org,
           o.product_line, CASE WHEN o.status = 'open' THEN o.stage ELSE o.status END, o.currency, o.amount, o.amount_base, NULL
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    WHERE ($customer IS NULL OR o.customer_id = $customer)
      AND ($point IS NULL OR $point = 'pipeline' AND o.status = 'open')
)
SELECT x.entity, x.record_id, x.date, x.customer_name, rp.name AS rep_name, x.reference, x.status,
       x.currency, x.amount, x.amount_base, x.unpaid_base
FROM rows_all x
LEFT JOIN live.reps rp ON rp.rep_id = x.owner_rep_id
ORDER BY x.date DESC NULLS LAST, x.entity, x.record_id
