-- A customer's figures ($customer; without one, every customer in the user's
-- scope): revenue (payments to date, refunds netted), contracted (contracts
-- not cancelled), outstanding and overdue receivables (contract execution
-- model), the open pipeline (and weighted by probability), predicted 12-month
-- value (CLV) with the chance the customer is still buying, and the 7P margin
-- with the value index.
WITH cu AS (
    SELECT cu.customer_id FROM dash.customers() cu
    WHERE dash.in_scope(cu.owner_rep_id, cu.owner_org, $scope_all, $scope_org, $scope_rep)
      AND ($customer IS NULL OR cu.customer_id = $customer)
),
p AS (
    SELECT coalesce(sum(p.amount_base), 0) AS v, max(p.paid_on) AS last_paid
    FROM dash.payments($base) p
    WHERE dash.in_scope(p.owner_rep_id, p.owner_org, $scope_all, $scope_org, $scope_rep)
      AND ($customer IS NULL OR p.customer_id = $customer)
),
c AS (
    SELECT coalesce(sum(c.amount_base) FILTER (WHERE c.status NOT IN ('cancelled', 'terminated')), 0) AS v, count(*) AS n,
           coalesce(sum(x.outstanding) FILTER (WHERE x.status NOT IN ('cancelled', 'settled')), 0) AS outstanding,
           coalesce(sum(x.overdue_amount) FILTER (WHERE x.status = 'overdue'), 0) AS overdue,
           max(x.days_overdue_max) AS days_overdue
    FROM dash.contracts($base) c
    LEFT JOIN main.mart_contract_execution x ON x.contract_id = c.contract_id
    WHERE dash.in_scope(c.owner_rep_id, c.owner_org, $scope_all, $scope_org, $scope_rep)
      AND ($customer IS NULL OR c.customer_id = $customer)
),
o AS (
    SELECT coalesce(sum(o.amount_base) FILTER (WHERE o.status = 'open'), 0) AS pipeline,
           coalesce(sum(CAST(o.amount_base AS DOUBLE) * o.probability / 100) FILTER (WHERE o.status = 'open'), 0) AS weighted,
           count(*) FILTER (WHERE o.status = 'open') AS open_deals
    FROM dash.opportunities($base) o
    WHERE dash.in_scope(o.owner_rep_id, o.owner_org, $scope_all, $scope_org, $scope_rep)
      AND ($customer IS NULL OR o.customer_id = $customer)
),
m AS (
    SELECT sum(l.clv) AS clv, avg(l.p_alive) AS p_alive, CAST(sum(v.margin) AS DOUBLE) AS margin, avg(v.value_index) AS value_index,
           count(*) AS customers
    FROM cu
    LEFT JOIN main.mart_clv l ON l.customer_id = cu.customer_id
    LEFT JOIN main.mart_customer_value v ON v.customer_id = cu.customer_id
)
SELECT 'revenue' AS kpi, CAST(p.v AS DOUBLE) AS value, CAST(NULL AS DOUBLE) AS extra, CAST(NULL AS DOUBLE) AS extra2 FROM p
UNION ALL SELECT 'contracted', CAST(c.v AS DOUBLE), CAST(c.n AS DOUBLE), NULL FROM c
UNION ALL SELECT 'outstanding', CAST(c.outstanding AS DOUBLE), CAST(c.overdue AS DOUBLE), CAST(c.days_overdue AS DOUBLE) FROM c
UNION ALL SELECT 'pipeline', CAST(o.pipeline AS DOUBLE), o.weighted, CAST(o.open_deals AS DOUBLE) FROM o
UNION ALL SELECT 'clv', m.clv, m.p_alive, NULL FROM m WHERE m.customers > 0
UNION ALL SELECT 'margin', m.margin, m.value_index, NULL FROM m WHERE m.customers > 0
