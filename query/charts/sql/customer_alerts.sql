-- The alerts (alerts model) about a customer ($customer), its contracts and its
-- deals; without one, every alert in the user's scope about a customer, a
-- contract or a deal (scoped.alerts: each visible by its subject).
WITH a AS (
    SELECT * FROM scoped.alerts($scope_all, $scope_org, $scope_rep, one_customer := $customer)
    WHERE subject_type IN ('customer', 'contract', 'opportunity') AND ($customer IS NULL OR customer_id = $customer)
)
SELECT a.kind || '|' || a.subject_id || '|' || coalesce(strftime(a.since, '%Y-%m-%d'), '') AS alert_id,
       a.severity, a.kind, a.subject_type, a.subject_id, a.subject_name AS customer_name, a.detail, a.since
FROM a
ORDER BY CASE a.severity WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, a.since DESC, alert_id
