-- Alerts grouped by customer: every customer with alerts (about the customer,
-- its contracts or its deals) in the user's scope below the org filter, of the
-- kind and severity chosen — how many, of which kinds, the most severe, and
-- the money at risk of them all; most money first.
WITH seen AS (
    SELECT a.*
    FROM scoped.alerts($scope_all, $scope_org, $scope_rep) a
    WHERE a.customer_id IS NOT NULL
      AND scoped.under_any(a.owner_org, $orgs)
      AND ($kind IS NULL OR a.kind = $kind) AND ($severity IS NULL OR a.severity = $severity)
)
SELECT s.customer_id, any_value(s.subject_name) AS customer_name,
       CAST(count(*) AS DOUBLE) AS alerts,
       CASE min(CASE s.severity WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END) WHEN 1 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END AS severity,
       string_agg(DISTINCT s.kind, ',' ORDER BY s.kind) AS kinds,
       CAST(sum(s.amount_at_risk) AS DOUBLE) AS amount_at_risk,
       any_value(r.name) AS rep_name
FROM seen s
LEFT JOIN live.reps r ON r.rep_id = s.owner_rep_id
GROUP BY s.customer_id
ORDER BY amount_at_risk DESC NULLS LAST, alerts DESC, s.customer_id
LIMIT 50  -- the rows the table shows; the alerts behind a row are paged
