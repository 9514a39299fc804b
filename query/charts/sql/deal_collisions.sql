-- Collisions (duplicate registrations) a deal ($deal) is part of, either as the
-- later registration or as the earlier one, with the latest ruling. A collision
-- is seen by whoever sees both deals. Without a deal: every collision in the
-- user's scope.
SELECT k.collision_id, k.opportunity_id, k.conflicts_with_opportunity_id, k.match_kind, k.score, k.status,
       k.customer_name, k.other_customer_name AS other_customer, k.registered_on,
       k.decision, k.winner_registrant, k.ruled_by, CAST(k.ruled_at AS DATE) AS ruled_on
FROM scoped.collisions($scope_all, $scope_org, $scope_rep, one_deal := $deal) k
ORDER BY k.created_at DESC, k.collision_id
