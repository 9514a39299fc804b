-- The name of a scope's org unit or rep (the cover of a report says whose
-- numbers it shows).
SELECT coalesce((SELECT u.name FROM scoped.org_units($scope_all, $scope_org, $scope_rep) u WHERE u.org_unit_id = $scope_org),
                (SELECT r.name FROM scoped.reps($scope_all, $scope_org, $scope_rep) r WHERE r.rep_id = $scope_rep)) AS name
