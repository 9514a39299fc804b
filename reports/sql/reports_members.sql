-- Who lies under an org unit, for recipients such as "every manager under
-- East China" and for what a manager may send to whom: the units of its
-- subtree (the unit itself included) and the reps of those units. Reference
-- tables (the org tree, the reps) are visible in full to every scope.
SELECT 'unit' AS kind, p.org_unit_id AS id
FROM scoped.org_paths($scope_all, $scope_org, $scope_rep) p
WHERE p.ancestor_id = $unit
UNION ALL
SELECT 'rep' AS kind, r.rep_id AS id
FROM scoped.reps($scope_all, $scope_org, $scope_rep) r
JOIN scoped.org_paths($scope_all, $scope_org, $scope_rep) p ON p.org_unit_id = r.org_unit_id
WHERE p.ancestor_id = $unit
ORDER BY kind, id
