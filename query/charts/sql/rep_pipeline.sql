-- The rep's open pipeline now ($rep; NULL = every rep in the user's scope
-- below the org filter) by stage: deals, amount and amount weighted by the
-- deal's win probability (base currency).
SELECT o.stage, any_value(o.stage_position) AS position, count(*) AS deals,
       CAST(sum(o.amount_base) AS DOUBLE) AS amount, sum(CAST(o.amount_base AS DOUBLE) * o.probability / 100) AS weighted
FROM dash.opportunities($base) o
WHERE dash.in_scope(o.owner_rep_id, o.owner_org, $scope_all, $scope_org, $scope_rep)
  AND dash.under(o.owner_org, $org) AND ($rep IS NULL OR o.owner_rep_id = $rep)
  AND ($product_line IS NULL OR o.product_line = $product_line)
  AND o.status = 'open'
GROUP BY o.stage
ORDER BY position, o.stage
