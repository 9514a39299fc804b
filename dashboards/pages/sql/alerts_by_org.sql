-- Alerts one level down from the unit the page is about (its child units and
-- the reps attached to it directly), by severity, in the user's scope.
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
),
keyed AS (
    SELECT CASE WHEN $node IS NULL OR s.owner_org = $node THEN 'rep:' || coalesce(s.owner_rep_id, '?') ELSE k.child_id END AS key,
           s.severity
    FROM seen s
    LEFT JOIN dash.child_of($node) k ON k.org_unit_id = s.owner_org
    WHERE dash.under(s.owner_org, $node)
)
SELECT CASE WHEN x.key LIKE 'rep:%' THEN 'rep' ELSE 'org' END AS kind, x.key,
       coalesce(u.name, r.name, CASE WHEN x.key = 'rep:?' THEN (SELECT n.name FROM main.org_units n WHERE n.org_unit_id = $node) END, x.key) AS label,
       count(*) FILTER (WHERE x.severity = 'high') AS high,
       count(*) FILTER (WHERE x.severity = 'medium') AS medium,
       count(*) FILTER (WHERE x.severity = 'low') AS low
FROM keyed x
LEFT JOIN main.org_units u ON u.org_unit_id = x.key
LEFT JOIN main.reps r ON x.key LIKE 'rep:%' AND r.rep_id = substr(x.key, 5)
GROUP BY ALL
ORDER BY high + medium + low DESC, label
