-- Segment movement: customers in the user's scope by their RFM segment at the
-- comparison date (previous_segment, 'none' = no purchase by then) and at the
-- model's as-of date (segment), from the RFM model (mart_rfm_movement; the
-- comparison date is models.rfm.movement_days, default 90, before as_of).
SELECT m.previous_segment, m.segment, count(*) AS customers,
       min(m.previous_as_of) AS previous_as_of, max(m.as_of) AS as_of
FROM scoped.mart_rfm_movement($scope_all, $scope_org, $scope_rep) m
JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = m.customer_id
WHERE scoped.under_any(cu.owner_org, $orgs)
GROUP BY m.previous_segment, m.segment
ORDER BY m.previous_segment, m.segment
