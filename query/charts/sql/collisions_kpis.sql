-- Collisions (撞单: a deal registered while another registrant had an open deal
-- on the same or a same-named customer; collision model) seen by the user, with
-- the status and ruling chosen: open ones (both deals still open), those
-- awaiting a ruling, those ruled, and the amount of the later deals.
WITH k AS (   -- the collisions seen by the user (scoped.collisions) under the page's filters
    SELECT * FROM scoped.collisions($scope_all, $scope_org, $scope_rep) k
    WHERE scoped.under_any(k.deal_org, $orgs)
      AND ($status IS NULL OR k.status = $status)
      AND ($ruling IS NULL OR $ruling = 'ruled' AND k.ruled OR $ruling = 'pending' AND NOT k.ruled)
      AND ($rep IS NULL OR $rep IN (k.deal_rep_id, k.other_rep_id))
      AND ($min_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) >= $min_age)
      AND ($max_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) <= $max_age)
)
SELECT 'collisions' AS kpi, CAST(count(*) AS DOUBLE) AS value, CAST(sum(amount_base) AS DOUBLE) AS extra FROM k
UNION ALL SELECT 'open', count(*) FILTER (WHERE status = 'open'), NULL FROM k
UNION ALL SELECT 'pending', count(*) FILTER (WHERE status = 'open' AND NOT ruled), NULL FROM k
UNION ALL SELECT 'ruled', count(*) FILTER (WHERE ruled), NULL FROM k
