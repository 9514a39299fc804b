-- The rep's open pipeline now ($rep; NULL = every rep in the user's scope
-- below the org filter) by stage: deals, amount and amount weighted by the
-- deal's win probability (base currency).
SELECT o.stage, any_value(o.stage_position) AS position, count(*) AS deals,
       CAST(sum(o.amount_base) AS DOUBLE) AS amount, CAST(sum(o.amount_base * CAST(o.probability AS DECIMAL(9,4))) AS DOUBLE) / 100 AS weighted
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
WHERE scoped.under_any(o.owner_org, $orgs) AND ($rep IS NULL OR o.owner_rep_id = $rep)
  AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
  AND o.status = 'open'
GROUP BY o.stage
ORDER BY position, o.stage
