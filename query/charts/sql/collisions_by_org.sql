-- Collisions seen by the user one level down from the unit the page is about
-- (its child units and the reps attached to it directly), by the later deal's
-- owner, ruled or not.
WITH k AS (   -- the collisions seen by the user (scoped.collisions) under the page's filters
    SELECT * FROM scoped.collisions($scope_all, $scope_org, $scope_rep) k
    WHERE scoped.under_any(k.deal_org, $orgs)
      AND ($status IS NULL OR k.status = $status)
      AND ($ruling IS NULL OR $ruling = 'ruled' AND k.ruled OR $ruling = 'pending' AND NOT k.ruled)
      AND ($rep IS NULL OR $rep IN (k.deal_rep_id, k.other_rep_id))
      AND ($min_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) >= $min_age)
      AND ($max_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) <= $max_age)
),
keyed AS (
    SELECT CASE WHEN $node IS NULL OR k.deal_org = $node THEN 'rep:' || coalesce(k.deal_rep_id, '?') ELSE c.child_id END AS key, k.ruled
    FROM k
    LEFT JOIN scoped.child_of($node) c ON c.org_unit_id = k.deal_org
    WHERE scoped.under(k.deal_org, $node)
)
SELECT CASE WHEN x.key LIKE 'rep:%' THEN 'rep' ELSE 'org' END AS kind, x.key, coalesce(u.name, r.name, x.key) AS label,
       count(*) FILTER (WHERE x.ruled) AS ruled, count(*) FILTER (WHERE NOT x.ruled) AS pending
FROM keyed x
LEFT JOIN live.org_units u ON u.org_unit_id = x.key
LEFT JOIN live.reps r ON r.rep_id = CASE WHEN x.key LIKE 'rep:%' THEN substr(x.key, 5) END  -- an equality: a hash join, not a nested loop
GROUP BY ALL
ORDER BY count(*) DESC, label
