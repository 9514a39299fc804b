-- Target attainment one level below the unit the page is about ($node): each
-- child unit (or each rep attached directly to $node) with its bookings in the
-- period and its bookings target for the months that start in the period.
-- A rep's own page ($node NULL) shows the rep.
WITH facts AS (
    SELECT c.owner_org, c.owner_rep_id, c.amount_base
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE scoped.under(c.owner_org, $node) AND scoped.under_any(c.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
),
keyed AS (
    SELECT CASE WHEN $node IS NULL OR f.owner_org = $node THEN 'rep:' || f.owner_rep_id ELSE k.child_id END AS key,
           f.amount_base
    FROM facts f
    LEFT JOIN scoped.child_of($node) k ON k.org_unit_id = f.owner_org
),
actual AS (
    SELECT key, sum(amount_base) AS actual FROM keyed GROUP BY key
),
target AS (
    SELECT CASE WHEN t.scope = 'rep' THEN 'rep:' || t.scope_id ELSE t.scope_id END AS key, sum(t.amount) AS target
    FROM scoped.targets($scope_all, $scope_org, $scope_rep) t
    WHERE t.metric = 'bookings'
      AND t.period_start BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
      AND $product_lines IS NULL
      AND ((t.scope <> 'rep' AND t.scope_id IN (SELECT u.org_unit_id FROM live.org_units u WHERE u.parent_id = $node)
             AND scoped.under_any(t.scope_id, $orgs))
        OR (t.scope = 'rep' AND ((t.owner_org = $node AND scoped.under_any(t.owner_org, $orgs)) OR ($node IS NULL AND t.scope_id = $node_rep))))
    GROUP BY 1
),
keys AS (
    SELECT key FROM actual UNION SELECT key FROM target
)
SELECT k.key,
       coalesce(u.name, r.name, k.key) AS label,
       CASE WHEN k.key LIKE 'rep:%' THEN 'rep' ELSE 'org' END AS kind,
       CAST(coalesce(a.actual, 0) AS DOUBLE) AS actual,
       CAST(t.target AS DOUBLE) AS target,
       CAST(coalesce(a.actual, 0) / nullif(t.target, 0) AS DOUBLE) AS attainment
FROM keys k
LEFT JOIN actual a ON a.key = k.key
LEFT JOIN target t ON t.key = k.key
LEFT JOIN live.org_units u ON u.org_unit_id = k.key
LEFT JOIN live.reps r ON 'rep:' || r.rep_id = k.key
ORDER BY attainment DESC NULLS LAST, actual DESC, label
