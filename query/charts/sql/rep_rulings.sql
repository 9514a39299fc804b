-- Rulings of the last 30 days on collisions of a rep's deals ($id), newest
-- first: what the rep's page tells them (the collision list is for managers).
SELECT k.opportunity_id, k.conflicts_with_opportunity_id, k.customer_name, k.decision, k.winner_registrant,
       k.winner_opportunity_id, k.ruled_by, k.ruled_at, k.note,
       'rep:' || $id IN (k.winner_registrant) AS won
FROM scoped.collisions($scope_all, $scope_org, $scope_rep) k
WHERE k.ruled AND $id IN (k.deal_rep_id, k.other_rep_id)
  AND k.ruled_at >= CAST(CAST($as_of AS DATE) - 30 AS TIMESTAMPTZ)
ORDER BY k.ruled_at DESC, k.collision_id
LIMIT 20
