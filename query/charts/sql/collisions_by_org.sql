-- Collisions seen by the user one level down from the unit the page is about
-- (its child units and the reps attached to it directly), by the later deal's
-- owner, ruled or not.
WITH latest AS (   -- the ruling that stands on each pair: the latest
    SELECT * FROM scoped.collision_rulings($scope_all, $scope_org, $scope_rep)
    QUALIFY row_number() OVER (PARTITION BY opportunity_id, conflicts_with_opportunity_id ORDER BY ruled_at DESC, ruling_id DESC) = 1
),
k AS (   -- collisions seen by the user: their later deal is in the scope, below the org filter
    SELECT m.opportunity_id || '|' || m.conflicts_with_opportunity_id AS collision_id, m.*,
           o.owner_rep_id AS deal_rep_id, o.owner_org AS deal_org, o.customer_name, o.amount_base, o.product_line,
           b.customer_name AS other_customer_name, b.owner_rep_id AS other_rep_id, b.owner_org AS other_org,
           l.decision, l.winner_registrant, l.winner_opportunity_id, l.note, l.ruled_by, l.ruled_at, l.ruling_id IS NOT NULL AS ruled
    FROM scoped.mart_collisions($scope_all, $scope_org, $scope_rep) m
    JOIN scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o ON o.opportunity_id = m.opportunity_id
    LEFT JOIN scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) b ON b.opportunity_id = m.conflicts_with_opportunity_id
    LEFT JOIN latest l ON l.opportunity_id = m.opportunity_id AND l.conflicts_with_opportunity_id = m.conflicts_with_opportunity_id
    WHERE scoped.under(o.owner_org, $org)
      AND ($status IS NULL OR m.status = $status)
      AND ($ruling IS NULL OR $ruling = 'ruled' AND l.ruling_id IS NOT NULL OR $ruling = 'pending' AND l.ruling_id IS NULL)
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
