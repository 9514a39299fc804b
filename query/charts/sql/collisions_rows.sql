-- The collisions behind a point, seen by the user, with the status and ruling
-- chosen. $point: 'k:<match kind>', 'u:<org_unit_id>' (a child unit of the unit
-- the page is about), 'r:<rep_id>' (a rep attached to it), 'open', 'pending',
-- 'ruled', 'collisions'; NULL = every collision.
WITH k AS (   -- the collisions seen by the user (scoped.collisions) under the page's filters
    SELECT * FROM scoped.collisions($scope_all, $scope_org, $scope_rep) k
    WHERE scoped.under_any(k.deal_org, $orgs)
      AND ($status IS NULL OR k.status = $status)
      AND ($ruling IS NULL OR $ruling = 'ruled' AND k.ruled OR $ruling = 'pending' AND NOT k.ruled)
      AND ($rep IS NULL OR $rep IN (k.deal_rep_id, k.other_rep_id))
      AND ($min_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) >= $min_age)
      AND ($max_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) <= $max_age)
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
