-- The alerts (alerts model) about a customer ($customer), its contracts and its
-- deals; without one, every alert in the user's scope about a customer, a
-- contract or a deal. An alert belongs to the owner of its subject.
WITH a AS (
    SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, cu.customer_id, cu.customer_name, cu.owner_rep_id AS subject_rep, cu.owner_org AS subject_org
    FROM main.mart_alerts m JOIN dash.customers() cu ON cu.customer_id = m.subject_id
    WHERE m.subject_type = 'customer' AND ($customer IS NULL OR m.subject_id = $customer)
    UNION ALL
    SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, c.customer_id, c.customer_name, c.owner_rep_id, c.owner_org
    FROM main.mart_alerts m JOIN dash.contracts($base) c ON c.contract_id = m.subject_id
    WHERE m.subject_type = 'contract' AND ($customer IS NULL OR c.customer_id = $customer)
    UNION ALL
    SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, o.customer_id, o.customer_name, o.owner_rep_id, o.owner_org
    FROM main.mart_alerts m JOIN dash.opportunities($base) o ON o.opportunity_id = m.subject_id
    WHERE m.subject_type = 'opportunity' AND ($customer IS NULL OR o.customer_id = $customer)
)
SELECT a.kind || '|' || a.subject_id || '|' || coalesce(strftime(a.since, '%Y-%m-%d'), '') AS alert_id,
       a.severity, a.kind, a.subject_type, a.subject_id, a.customer_name, a.detail, a.since
FROM a
WHERE dash.in_scope(a.subject_rep, a.subject_org, $scope_all, $scope_org, $scope_rep)
  AND ($customer IS NULL OR a.customer_id = $customer)
ORDER BY CASE a.severity WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, a.since DESC, alert_id
