-- The collisions behind a point, seen by the user, with the status and ruling
-- chosen. $point: 'k:<match kind>', 'u:<org_unit_id>' (a child unit of the unit
-- the page is about), 'r:<rep_id>' (a rep attached to it), 'open', 'pending',
-- 'ruled', 'collisions'; NULL = every collision.
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
)
SELECT k.collision_id, k.opportunity_id, k.conflicts_with_opportunity_id, k.match_kind, k.score, k.status,
       k.customer_name, k.other_customer_name, k.registrant, k.conflicts_with_registrant, k.first_registrant,
       CAST(k.created_at AS DATE) AS registered_on, r.name AS rep_name, u.name AS org_unit,
       k.decision, k.winner_registrant, k.ruled_by, k.ruled_at
FROM k
LEFT JOIN live.reps r ON r.rep_id = k.deal_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = k.deal_org
WHERE $point IS NULL OR $point = 'collisions'
   OR $point = 'open' AND k.status = 'open'
   OR $point = 'pending' AND k.status = 'open' AND NOT k.ruled
   OR $point = 'ruled' AND k.ruled
   OR $point = 'k:' || k.match_kind
   OR $point LIKE 'u:%' AND scoped.under(k.deal_org, substr($point, 3))
   OR $point LIKE 'r:%' AND coalesce(k.deal_rep_id, '?') = substr($point, 3) AND ($node IS NULL OR k.deal_org = $node)
ORDER BY k.created_at DESC, k.collision_id
