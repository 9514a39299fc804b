-- Alerts (alerts model, as of its last refresh) in the user's scope below the
-- org filter, of the kind and severity chosen: how many of each severity, and
-- the customers, contracts and deals concerned. An alert belongs to the owner of
-- its subject.
WITH a AS (   -- every alert with the owner of its subject (customer, contract, deal or org unit)
    SELECT * FROM scoped.alerts($scope_all, $scope_org, $scope_rep)
),
seen AS (   -- in the user's scope, below the org filter, of the kind and severity chosen
    SELECT a.kind, a.severity, a.subject_type, a.subject_id, a.detail, a.since,
           a.kind || '|' || a.subject_id || '|' || coalesce(strftime(a.since, '%Y-%m-%d'), '') AS alert_id,
           a.customer_id, a.subject_name, a.owner_rep_id, a.owner_org
    FROM a
    WHERE scoped.under_any(a.owner_org, $orgs)
      AND ($kind IS NULL OR a.kind = $kind) AND ($severity IS NULL OR a.severity = $severity)
)
SELECT 'total' AS kpi, CAST(count(*) AS DOUBLE) AS value, CAST(count(DISTINCT customer_id) AS DOUBLE) AS extra FROM seen
UNION ALL SELECT 'high', count(*) FILTER (WHERE severity = 'high'), NULL FROM seen
UNION ALL SELECT 'medium', count(*) FILTER (WHERE severity = 'medium'), NULL FROM seen
UNION ALL SELECT 'low', count(*) FILTER (WHERE severity = 'low'), NULL FROM seen
