-- Collisions (duplicate registrations) a deal ($deal) is part of, either as the
-- later registration or as the earlier one, with the latest ruling. A collision
-- is seen by whoever sees its later deal. Without a deal: every collision in the
-- user's scope.
WITH latest AS (
    SELECT * FROM scoped.collision_rulings($scope_all, $scope_org, $scope_rep)
    QUALIFY row_number() OVER (PARTITION BY opportunity_id, conflicts_with_opportunity_id ORDER BY ruled_at DESC, ruling_id DESC) = 1
)
SELECT m.opportunity_id || '|' || m.conflicts_with_opportunity_id AS collision_id,
       m.opportunity_id, m.conflicts_with_opportunity_id, m.match_kind, m.score, m.status,
       o.customer_name, b.customer_name AS other_customer, CAST(m.created_at AS DATE) AS registered_on,
       l.decision, l.winner_registrant, l.ruled_by, CAST(l.ruled_at AS DATE) AS ruled_on
FROM scoped.mart_collisions($scope_all, $scope_org, $scope_rep) m
JOIN scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o ON o.opportunity_id = m.opportunity_id
LEFT JOIN scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) b ON b.opportunity_id = m.conflicts_with_opportunity_id
LEFT JOIN latest l ON l.opportunity_id = m.opportunity_id AND l.conflicts_with_opportunity_id = m.conflicts_with_opportunity_id
WHERE ($deal IS NULL OR m.opportunity_id = $deal OR m.conflicts_with_opportunity_id = $deal)
ORDER BY m.created_at DESC, collision_id
