-- Alerts by kind and severity, in the user's scope below the org filter (alerts
-- model): purchases down three months running, settlements due within 7 days or
-- overdue, contracts ending within 30 days, stalled deals, forecast below target.
WITH a AS (   -- every alert with the owner of its subject (customer, contract, deal or org unit)
    SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, cu.customer_id, cu.customer_name AS subject_name, cu.owner_rep_id, cu.owner_org
    FROM main.mart_alerts m LEFT JOIN dash.customers() cu ON cu.customer_id = m.subject_id
    WHERE m.subject_type = 'customer'
    UNION ALL
    SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, c.customer_id, c.customer_name, c.owner_rep_id, c.owner_org
    FROM main.mart_alerts m LEFT JOIN dash.contracts($base) c ON c.contract_id = m.subject_id
    WHERE m.subject_type = 'contract'
    UNION ALL
    SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, o.customer_id, o.customer_name, o.owner_rep_id, o.owner_org
    FROM main.mart_alerts m LEFT JOIN dash.opportunities($base) o ON o.opportunity_id = m.subject_id
    WHERE m.subject_type = 'opportunity'
    UNION ALL
    SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, NULL, u.name, NULL, m.subject_id
    FROM main.mart_alerts m LEFT JOIN live.org_units u ON u.org_unit_id = m.subject_id
    WHERE m.subject_type = 'org_unit'
),
seen AS (   -- in the user's scope, below the org filter, of the kind and severity chosen
    SELECT a.kind, a.severity, a.subject_type, a.subject_id, a.detail, a.since,
           a.kind || '|' || a.subject_id || '|' || coalesce(strftime(a.since, '%Y-%m-%d'), '') AS alert_id,
           a.customer_id, a.subject_name, a.owner_rep_id, a.owner_org
    FROM a
    WHERE dash.in_scope(a.owner_rep_id, a.owner_org, $scope_all, $scope_org, $scope_rep)
      AND dash.under(a.owner_org, $org)
      AND ($kind IS NULL OR a.kind = $kind) AND ($severity IS NULL OR a.severity = $severity)
)
SELECT kind, severity, count(*) AS alerts
FROM seen
GROUP BY ALL
ORDER BY kind, severity
