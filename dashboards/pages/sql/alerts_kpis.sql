-- Alerts (alerts model, as of its last refresh) in the user's scope below the
-- org filter, of the kind and severity chosen: how many of each severity, and
-- the customers, contracts and deals concerned. An alert belongs to the owner of
-- its subject.
WITH a AS (   -- every alert with the owner of its subject (customer, contract, deal or org unit)
    SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since,
           m.kind || '|' || m.subject_id || '|' || coalesce(strftime(m.since, '%Y-%m-%d'), '') AS alert_id,
           coalesce(cu.customer_id, c.customer_id, o.customer_id) AS customer_id,
           coalesce(cu.customer_name, c.customer_name, o.customer_name, u.name) AS subject_name,
           CASE m.subject_type WHEN 'customer' THEN cu.owner_rep_id WHEN 'contract' THEN c.owner_rep_id
                               WHEN 'opportunity' THEN o.owner_rep_id END AS owner_rep_id,
           CASE m.subject_type WHEN 'customer' THEN cu.owner_org WHEN 'contract' THEN c.owner_org
                               WHEN 'opportunity' THEN o.owner_org WHEN 'org_unit' THEN m.subject_id END AS owner_org
    FROM main.mart_alerts m
    LEFT JOIN dash.customers() cu ON m.subject_type = 'customer' AND cu.customer_id = m.subject_id
    LEFT JOIN dash.contracts($base) c ON m.subject_type = 'contract' AND c.contract_id = m.subject_id
    LEFT JOIN dash.opportunities($base) o ON m.subject_type = 'opportunity' AND o.opportunity_id = m.subject_id
    LEFT JOIN main.org_units u ON m.subject_type = 'org_unit' AND u.org_unit_id = m.subject_id
),
seen AS (   -- in the user's scope, below the org filter, of the kind and severity chosen
    SELECT a.* FROM a
    WHERE dash.in_scope(a.owner_rep_id, a.owner_org, $scope_all, $scope_org, $scope_rep)
      AND dash.under(a.owner_org, $org)
      AND ($kind IS NULL OR a.kind = $kind) AND ($severity IS NULL OR a.severity = $severity)
)
SELECT 'total' AS kpi, CAST(count(*) AS DOUBLE) AS value, CAST(count(DISTINCT customer_id) AS DOUBLE) AS extra FROM seen
UNION ALL SELECT 'high', count(*) FILTER (WHERE severity = 'high'), NULL FROM seen
UNION ALL SELECT 'medium', count(*) FILTER (WHERE severity = 'medium'), NULL FROM seen
UNION ALL SELECT 'low', count(*) FILTER (WHERE severity = 'low'), NULL FROM seen
