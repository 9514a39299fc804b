-- One collision ($id = the later deal, $other = the earlier one) as the user
-- sees it: no row unless the later deal is in the user's scope; both_in_scope
-- says whether the earlier deal is too (a ruling needs both).
SELECT m.opportunity_id, m.conflicts_with_opportunity_id, m.status, m.match_kind,
       m.registrant, m.conflicts_with_registrant, m.first_registrant, m.first_registered_opportunity_id,
       dash.in_scope(b.owner_rep_id, b.owner_org, $scope_all, $scope_org, $scope_rep) AS both_in_scope
FROM main.mart_collisions m
JOIN dash.opportunities($base) o ON o.opportunity_id = m.opportunity_id
LEFT JOIN dash.opportunities($base) b ON b.opportunity_id = m.conflicts_with_opportunity_id
WHERE m.opportunity_id = $id AND m.conflicts_with_opportunity_id = $other
  AND dash.in_scope(o.owner_rep_id, o.owner_org, $scope_all, $scope_org, $scope_rep)
