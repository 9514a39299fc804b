-- One collision ($id = the later deal, $other = the earlier one) as the user
-- sees it: no row unless the user sees both deals (the scope rule), which a
-- ruling needs too. rulings: how often it was ruled on (a second ruling is an
-- overrule, which needs a reason).
SELECT m.opportunity_id, m.conflicts_with_opportunity_id, m.status, m.match_kind,
       m.registrant, m.conflicts_with_registrant, m.first_registrant, m.first_registered_opportunity_id,
       (SELECT count(*) FROM scoped.collision_rulings($scope_all, $scope_org, $scope_rep, one_deal := $id) r
        WHERE r.opportunity_id = m.opportunity_id AND r.conflicts_with_opportunity_id = m.conflicts_with_opportunity_id) AS rulings
FROM scoped.mart_collisions($scope_all, $scope_org, $scope_rep, one_deal := $id) m
WHERE m.opportunity_id = $id AND m.conflicts_with_opportunity_id = $other
