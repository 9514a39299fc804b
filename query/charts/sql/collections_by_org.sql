-- Collected against contracted, one level down from the unit the page is about
-- ($node: its child units and the reps attached to it directly; for a rep,
-- themselves): contracts signed in the period (base currency at the signing
-- day's rate) and payments received in the period (refunds netted), with what
-- is overdue now. Only inside the user's scope.
WITH facts AS (
    SELECT 'c' AS k, c.owner_rep_id, c.owner_org, c.amount_base AS v, c.contract_id
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
    UNION ALL
    SELECT 'p', p.owner_rep_id, p.owner_org, p.amount_base, NULL   -- whole months summed (scoped.collections_in)
    FROM scoped.collections_in($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE)) p
    WHERE ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
    UNION ALL
    SELECT 'o', c.owner_rep_id, c.owner_org, d.amount_due - d.amount_paid, c.contract_id
    FROM scoped.mart_settlements_due($scope_all, $scope_org, $scope_rep) d JOIN scoped.contract_facts($scope_all, $scope_org, $scope_rep) c ON c.contract_id = d.contract_id
    WHERE d.status = 'overdue'
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
),
keyed AS (
    SELECT CASE WHEN $node IS NULL OR f.owner_org = $node THEN 'rep:' || coalesce(f.owner_rep_id, '?') ELSE k.child_id END AS key,
           f.k, f.v
    FROM facts f
    LEFT JOIN scoped.child_of($node) k ON k.org_unit_id = f.owner_org
    WHERE scoped.under(f.owner_org, $node) AND scoped.under_any(f.owner_org, $orgs)
)
SELECT CASE WHEN x.key LIKE 'rep:%' THEN 'rep' ELSE 'org' END AS kind, x.key, coalesce(u.name, r.name, x.key) AS label,
       CAST(coalesce(sum(x.v) FILTER (WHERE x.k = 'c'), 0) AS DOUBLE) AS contracted,
       CAST(coalesce(sum(x.v) FILTER (WHERE x.k = 'p'), 0) AS DOUBLE) AS collected,
       CAST(coalesce(sum(x.v) FILTER (WHERE x.k = 'o'), 0) AS DOUBLE) AS overdue
FROM keyed x
LEFT JOIN live.org_units u ON u.org_unit_id = x.key
LEFT JOIN live.reps r ON r.rep_id = CASE WHEN x.key LIKE 'rep:%' THEN substr(x.key, 5) END  -- an equality: a hash join, not a nested loop
GROUP BY ALL
ORDER BY contracted + collected DESC, label
