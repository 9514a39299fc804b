-- The alerts (alerts model) about a customer ($customer), its contracts and its
-- deals; without one, every alert in the user's scope about a customer, a
-- contract or a deal. An alert belongs to the owner of its subject.
WITH a AS (
    SELECT m.*,
           coalesce(cu.customer_id, c.customer_id, o.customer_id) AS customer_id,
           coalesce(cu.customer_name, c.customer_name, o.customer_name) AS customer_name,
           coalesce(cu.owner_rep_id, c.owner_rep_id, o.owner_rep_id) AS subject_rep,
           coalesce(cu.owner_org, c.owner_org, o.owner_org) AS subject_org
    FROM main.mart_alerts m
    LEFT JOIN dash.customers() cu ON m.subject_type = 'customer' AND cu.customer_id = m.subject_id
    LEFT JOIN dash.contracts($base) c ON m.subject_type = 'contract' AND c.contract_id = m.subject_id
    LEFT JOIN dash.opportunities($base) o ON m.subject_type = 'opportunity' AND o.opportunity_id = m.subject_id
    WHERE m.subject_type IN ('customer', 'contract', 'opportunity')
)
SELECT a.kind || '|' || a.subject_id || '|' || coalesce(strftime(a.since, '%Y-%m-%d'), '') AS alert_id,
       a.severity, a.kind, a.subject_type, a.subject_id, a.customer_name, a.detail, a.since
FROM a
WHERE dash.in_scope(a.subject_rep, a.subject_org, $scope_all, $scope_org, $scope_rep)
  AND ($customer IS NULL OR a.customer_id = $customer)
ORDER BY CASE a.severity WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, a.since DESC, alert_id
