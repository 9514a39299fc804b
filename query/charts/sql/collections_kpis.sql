-- Receivables and collections in the user's scope below the org filter:
-- outstanding (what contracts not yet paid in full still owe, due or not),
-- overdue (unpaid part of installments past due), due within 7 days and by the
-- end of the month (contract execution model, as of its last refresh); and,
-- in the period, what was collected (payments, refunds netted) against what
-- was contracted (contracts signed). Base currency; contracts at their booking
-- rate.
WITH c AS (
    SELECT c.contract_id, c.status, c.signed_on, c.amount_base, x.outstanding, x.status AS execution
    FROM scoped.contract_facts($scope_all, $scope_org, $scope_rep) c
    LEFT JOIN scoped.mart_contract_execution($scope_all, $scope_org, $scope_rep) x ON x.contract_id = c.contract_id
    WHERE scoped.under_any(c.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
),
s AS (
    SELECT d.status, d.amount_due - d.amount_paid AS unpaid, d.contract_id
    FROM scoped.mart_settlements_due($scope_all, $scope_org, $scope_rep) d JOIN c ON c.contract_id = d.contract_id
),
p AS (   -- whole months summed (scoped.collections_in)
    SELECT coalesce(sum(p.amount_base), 0) AS v
    FROM scoped.collections_in($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE)) p
    WHERE scoped.under_any(p.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
)
SELECT 'outstanding' AS kpi, CAST(sum(outstanding) FILTER (WHERE execution IN ('current', 'overdue')) AS DOUBLE) AS value,
       CAST(count(*) FILTER (WHERE execution IN ('current', 'overdue') AND outstanding > 0) AS DOUBLE) AS extra FROM c
UNION ALL SELECT 'overdue', CAST(coalesce(sum(unpaid) FILTER (WHERE status = 'overdue'), 0) AS DOUBLE),
                 CAST(count(DISTINCT contract_id) FILTER (WHERE status = 'overdue') AS DOUBLE) FROM s
UNION ALL SELECT 'due_7d', CAST(coalesce(sum(unpaid) FILTER (WHERE status = 'due_7d'), 0) AS DOUBLE),
                 CAST(count(*) FILTER (WHERE status = 'due_7d') AS DOUBLE) FROM s
UNION ALL SELECT 'due_month', CAST(coalesce(sum(unpaid) FILTER (WHERE status IN ('due_7d', 'due_this_month')), 0) AS DOUBLE),
                 CAST(count(*) FILTER (WHERE status IN ('due_7d', 'due_this_month')) AS DOUBLE) FROM s
UNION ALL SELECT 'collected', CAST(p.v AS DOUBLE),
                 CAST((SELECT sum(amount_base) FROM c WHERE c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
                                                    AND c.status NOT IN ('cancelled')) AS DOUBLE) FROM p
