-- The alerts themselves, most severe first (those about customers, contracts
-- and deals before those about org units), most recent first, in the user's
-- scope below the org filter, of the kind and severity chosen, with what they
-- are about and the owner.
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
SELECT s.alert_id, s.severity, s.kind, s.subject_type, s.subject_id, s.customer_id, s.subject_name,
       s.detail, s.since, r.name AS rep_name, u.name AS org_unit
FROM seen s
LEFT JOIN live.reps r ON r.rep_id = s.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = s.owner_org
ORDER BY CASE s.severity WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, s.subject_type = 'org_unit', s.since DESC, s.alert_id
LIMIT 100  -- the rows the list shows (buildAlertList); the rows behind it are paged
