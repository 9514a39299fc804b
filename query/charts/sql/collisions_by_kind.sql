-- Collisions seen by the user by how the customers matched (same customer,
-- same normalised name, similar name in the same city) and whether a ruling
-- stands.
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
SELECT match_kind, count(*) FILTER (WHERE ruled) AS ruled, count(*) FILTER (WHERE NOT ruled) AS pending
FROM k
GROUP BY match_kind
ORDER BY count(*) DESC, match_kind
