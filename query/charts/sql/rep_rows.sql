-- The rows behind a rep's figures ($rep; NULL on the overview = every rep in
-- the user's scope below the org filter). $point: 'bookings' (contracts signed
-- in the period), 'collections' (payments in the period), 'pipeline' (open
-- deals), 'win_rate' (deals closed in the period), 'activities' (logged in the
-- period), 'stalled' (open deals stalled in their stage), 'm:YYYY-MM' (contracts
-- and payments of a month); NULL = all of these.
WITH rows_all AS (
    SELECT 'contracts' AS entity, c.contract_id AS record_id, c.signed_on AS date, c.customer_name,
           c.owner_rep_id, c.owner_org, c.product_line, c.status, c.currency, c.amount, c.amount_base
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE ($product_lines IS NULL OR list_contains($product_lines, c.product_line)) AND ($rep IS NULL OR c.owner_rep_id = $rep)
      AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
      AND ($point IS NULL OR $point = 'bookings' OR $point = 'm:' || strftime(c.signed_on, '%Y-%m'))
    UNION ALL
    SELECT 'payments', p.payment_id, p.paid_on, p.customer_name, p.owner_rep_id, p.owner_org, p.product_line, p.method,
           p.currency, p.amount, p.amount_base
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
    WHERE ($product_lines IS NULL OR list_contains($product_lines, p.product_line)) AND ($rep IS NULL OR p.owner_rep_id = $rep)
      AND p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
      AND ($point IS NULL OR $point = 'collections' OR $point = 'm:' || strftime(p.paid_on, '%Y-%m'))
    UNION ALL
    SELECT 'opportunities', o.opportunity_id, coalesce(o.closed_on, o.expected_close_on), o.customer_name, o.owner_rep_id, o.owner_org,
           o.product_line, CASE WHEN o.status = 'open' THEN o.stage ELSE o.status END, o.currency, o.amount, o.amount_base
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    LEFT JOIN scoped.mart_pipeline($scope_all, $scope_org, $scope_rep) pl ON pl.opportunity_id = o.opportunity_id
    LEFT JOIN scoped.benchmark_stage_days($scope_all, $scope_org, $scope_rep) f ON f.stage = pl.stage
    WHERE ($product_lines IS NULL OR list_contains($product_lines, o.product_line)) AND ($rep IS NULL OR o.owner_rep_id = $rep)
      AND (($point IS NULL OR $point = 'pipeline') AND o.status = 'open'
           OR ($point IS NULL OR $point = 'win_rate') AND o.status IN ('won', 'lost')
              AND o.closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
           OR $point = 'stalled' AND o.status = 'open' AND pl.days_in_stage > 2 * greatest(coalesce(f.days_median, 1), 1))
    UNION ALL
    SELECT 'activities', a.activity_id, a.occurred_on, a.customer_name,
           a.owner_rep_id, a.owner_org, NULL, a.kind, NULL, NULL, NULL
    FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a
    WHERE ($rep IS NULL OR a.rep_id = $rep)
      AND a.occurred_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
      AND ($point IS NULL OR $point = 'activities')
)
SELECT x.entity, x.record_id, x.date, x.customer_name, rp.name AS rep_name, u.name AS org_unit,
       x.product_line, x.status, x.currency, x.amount, x.amount_base
FROM rows_all x
LEFT JOIN live.reps rp ON rp.rep_id = x.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = x.owner_org
WHERE scoped.under_any(x.owner_org, $orgs)
ORDER BY x.date DESC NULLS LAST, x.entity, x.record_id
