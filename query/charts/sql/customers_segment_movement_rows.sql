-- The customers behind a cell of the segment movement, in the user's scope
-- below the org filter: their segment at the comparison date and now, with
-- recency (days), frequency (purchases) and monetary value (paid, base
-- currency) from the RFM model as of now. $point: 'mv:<previous>:<segment>'
-- (a cell; 'none' = no purchase by then); NULL = every customer of the chart.
SELECT m.customer_id, cu.customer_name, rp.name AS rep_name, u.name AS org_unit,
       m.previous_segment, m.segment, m.previous_as_of, m.as_of,
       r.recency_days, r.frequency, CAST(r.monetary AS DOUBLE) AS paid
FROM scoped.mart_rfm_movement($scope_all, $scope_org, $scope_rep) m
JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = m.customer_id
LEFT JOIN scoped.mart_rfm($scope_all, $scope_org, $scope_rep) r ON r.customer_id = m.customer_id
LEFT JOIN live.reps rp ON rp.rep_id = cu.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = cu.owner_org
WHERE scoped.under_any(cu.owner_org, $orgs)
  AND ($point IS NULL OR $point = 'mv:' || m.previous_segment || ':' || m.segment)
ORDER BY paid DESC NULLS LAST, m.customer_id
