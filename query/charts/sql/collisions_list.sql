-- The collisions seen by the user, with the status and ruling chosen, newest
-- first: both deals, their customers and registrants (rep or partner), how the
-- customers matched, the first registrant, and the ruling that stands. A pair
-- is listed when the user sees both deals (the scope rule); the page checks
-- whether the role may rule.
WITH earlier AS (   -- the rulings an overruling replaced: who ruled for whom, when, why
    SELECT opportunity_id, conflicts_with_opportunity_id,
           list({'winner': winner_registrant, 'by': ruled_by, 'at': ruled_at, 'note': note} ORDER BY ruled_at DESC, ruling_id DESC) AS earlier
    FROM (SELECT *, row_number() OVER (PARTITION BY opportunity_id, conflicts_with_opportunity_id ORDER BY ruled_at DESC, ruling_id DESC) AS nth
          FROM scoped.collision_rulings($scope_all, $scope_org, $scope_rep))
    WHERE nth > 1 GROUP BY ALL
),
k AS (   -- the collisions seen by the user (scoped.collisions) under the page's filters
    SELECT * FROM scoped.collisions($scope_all, $scope_org, $scope_rep) k
    WHERE scoped.under_any(k.deal_org, $orgs)
      AND ($status IS NULL OR k.status = $status)
      AND ($ruling IS NULL OR $ruling = 'ruled' AND k.ruled OR $ruling = 'pending' AND NOT k.ruled)
      AND ($rep IS NULL OR $rep IN (k.deal_rep_id, k.other_rep_id))
      AND ($min_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) >= $min_age)
      AND ($max_age IS NULL OR date_diff('day', k.registered_on, CAST($as_of AS DATE)) <= $max_age)
),
names AS (
    SELECT 'rep:' || rep_id AS registrant, name FROM live.reps
    UNION ALL SELECT 'partner:' || partner_id, name FROM live.partners
)
SELECT k.collision_id, k.opportunity_id, k.conflicts_with_opportunity_id, k.match_kind, k.score, k.status,
       k.customer_id, k.customer_name, k.conflicts_with_customer_id, k.other_customer_name,
       k.registrant, coalesce(n1.name, k.registrant) AS registrant_name,
       k.conflicts_with_registrant, coalesce(n2.name, k.conflicts_with_registrant) AS other_registrant_name,
       k.first_registrant, k.first_registered_opportunity_id,
       CAST(k.created_at AS DATE) AS registered_on, CAST(k.amount_base AS DOUBLE) AS amount_base, k.product_line,
       k.decision, k.winner_registrant, coalesce(n3.name, k.winner_registrant) AS winner_name, k.note, k.ruled_by, k.ruled_at,
       k.rulings,
       (SELECT string_agg(coalesce(n4.name, e.winner) || '|' || e.by || '|' || strftime(e.at, '%Y-%m-%dT%H:%M:%S%z') || '|' || coalesce(e.note, ''), chr(30))
        FROM (SELECT unnest(x.earlier, recursive := true) FROM earlier x
              WHERE x.opportunity_id = k.opportunity_id AND x.conflicts_with_opportunity_id = k.conflicts_with_opportunity_id) e
        LEFT JOIN names n4 ON n4.registrant = e.winner) AS earlier_rulings
FROM k
LEFT JOIN names n1 ON n1.registrant = k.registrant
LEFT JOIN names n2 ON n2.registrant = k.conflicts_with_registrant
LEFT JOIN names n3 ON n3.registrant = k.winner_registrant
ORDER BY k.status = 'open' DESC, k.created_at DESC, k.collision_id
LIMIT $page_size + 1 OFFSET ($page - 1) * $page_size
