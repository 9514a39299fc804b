-- Alerts by kind and severity, in the user's scope below the org filter (alerts
-- model): purchases down three months running, settlements due within 7 days or
-- overdue, contracts ending within 30 days, stalled deals, forecast below target.
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
SELECT kind, severity, count(*) AS alerts
FROM seen
GROUP BY ALL
ORDER BY kind, severity
