-- The header of a rep's page ($id): name, org unit (with the path above it),
-- manager, hired and left. No row when the rep is not in the user's scope (a
-- rep sees only themselves; a manager the reps of their subtree).
SELECT r.rep_id, r.name AS rep_name, r.org_unit_id, u.name AS org_unit, u.level,
       (SELECT string_agg(a.name, ' › ' ORDER BY p.depth DESC) FROM facts.org_paths p
        JOIN live.org_units a ON a.org_unit_id = p.ancestor_id WHERE p.org_unit_id = r.org_unit_id AND p.depth > 0) AS org_path,
       m.name AS manager_name, r.hired_on, r.left_on
FROM live.reps r
LEFT JOIN live.org_units u ON u.org_unit_id = r.org_unit_id
LEFT JOIN live.reps m ON m.rep_id = r.manager_rep_id
WHERE r.rep_id = $id
  AND scoped.sees(r.rep_id, r.org_unit_id, $scope_all, $scope_org, $scope_rep)
