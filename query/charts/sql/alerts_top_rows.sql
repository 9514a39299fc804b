-- The rows behind the top alerts of a home page (alerts_top.sql): every alert
-- of the user's scope (a rep's own), of the rep whose page it is ($rep), or
-- below the unit the page is about (the org filter); $point: one alert.
SELECT a.kind || '|' || a.subject_id || '|' || coalesce(strftime(a.since, '%Y-%m-%d'), '') AS alert_id,
       a.severity, a.kind, a.subject_type, a.subject_id, a.customer_id, a.subject_name, a.detail, a.since,
       CAST(a.amount_at_risk AS DOUBLE) AS amount_at_risk, r.name AS rep_name
FROM scoped.alerts($scope_all, $scope_org, $scope_rep) a
LEFT JOIN live.reps r ON r.rep_id = a.owner_rep_id
WHERE scoped.under_any(a.owner_org, $orgs) AND ($rep IS NULL OR a.owner_rep_id = $rep)
  AND ($point IS NULL OR $point = a.kind || '|' || a.subject_id || '|' || coalesce(strftime(a.since, '%Y-%m-%d'), ''))
ORDER BY a.amount_at_risk DESC NULLS LAST, CASE a.severity WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, a.since DESC, alert_id
