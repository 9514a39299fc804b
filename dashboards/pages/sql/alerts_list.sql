-- The alerts themselves, most severe first (those about customers, contracts
-- and deals before those about org units), most recent first, in the user's
-- scope below the org filter, of the kind and severity chosen, with what they
-- are about and the owner.
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
SELECT s.alert_id, s.severity, s.kind, s.subject_type, s.subject_id, s.customer_id, s.subject_name,
       s.detail, s.since, r.name AS rep_name, u.name AS org_unit
FROM seen s
LEFT JOIN live.reps r ON r.rep_id = s.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = s.owner_org
ORDER BY CASE s.severity WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, s.subject_type = 'org_unit', s.since DESC, s.alert_id
LIMIT 100  -- the rows the list shows (buildAlertList); the rows behind it are paged
