-- Collisions seen by the user by how the customers matched (same customer,
-- same normalised name, similar name in the same city) and whether a ruling
-- stands.
WITH k AS (   -- the collisions seen by the user (scoped.collisions) under the page's filters
    SELECT * FROM scoped.collisions($scope_all, $scope_org, $scope_rep) k
    WHERE scoped.under_any(k.deal_org, $orgs)
      AND ($status IS NULL OR k.status = $status)
      AND ($ruling IS NULL OR $ruling = 'ruled' AND k.ruled OR $ruling = 'pending' AND NOT k.ruled)
      AND ($rep IS NULL OR $rep IN (k.deal_rep_id, k.other_rep_id))
      AND ($min_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) >= $min_age)
      AND ($max_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) <= $max_age)
)
SELECT match_kind, count(*) FILTER (WHERE ruled) AS ruled, count(*) FILTER (WHERE NOT ruled) AS pending
FROM k
GROUP BY match_kind
ORDER BY count(*) DESC, match_kind
