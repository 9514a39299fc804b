-- Why deals were won or lost: the deals ($rep; NULL = every rep in the user's
-- scope below the org filter) closed in the period, by close reason and outcome.
SELECT coalesce(o.close_reason, '') AS reason, o.status, count(*) AS deals, CAST(sum(o.amount_base) AS DOUBLE) AS amount
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
WHERE scoped.under_any(o.owner_org, $orgs) AND ($rep IS NULL OR o.owner_rep_id = $rep)
  AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
  AND o.status IN ('won', 'lost') AND o.closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
GROUP BY ALL
ORDER BY deals DESC, reason
