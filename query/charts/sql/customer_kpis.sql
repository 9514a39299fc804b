-- A customer's figures ($customer; without one, every customer in the user's
-- scope): revenue (payments to date, refunds netted), contracted (bookings:
-- contracts signed, not cancelled, with their count), outstanding and overdue receivables (contract execution
-- model), the open pipeline (and weighted by probability), predicted 12-month
-- value (CLV) with the chance the customer is still buying, and the 7P margin
-- with the value index.
WITH cu AS (
    SELECT cu.customer_id FROM scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu
    WHERE ($customer IS NULL OR cu.customer_id = $customer)
),
p AS (
    SELECT coalesce(sum(p.amount_base), 0) AS v, max(p.paid_on) AS last_paid
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
    WHERE ($customer IS NULL OR p.customer_id = $customer)
),
b AS (   -- bookings: contracts signed, not cancelled (a terminated contract stays a booking)
    SELECT coalesce(sum(c.amount_base), 0) AS v, count(*) AS n
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE ($customer IS NULL OR c.customer_id = $customer)
),
c AS (
    SELECT coalesce(sum(x.outstanding) FILTER (WHERE x.status NOT IN ('cancelled', 'settled')), 0) AS outstanding,
           coalesce(sum(x.overdue_amount) FILTER (WHERE x.status = 'overdue'), 0) AS overdue,
           max(x.days_overdue_max) AS days_overdue
    FROM scoped.contract_facts($scope_all, $scope_org, $scope_rep) c
    LEFT JOIN scoped.mart_contract_execution($scope_all, $scope_org, $scope_rep) x ON x.contract_id = c.contract_id
    WHERE ($customer IS NULL OR c.customer_id = $customer)
),
o AS (
    SELECT coalesce(sum(o.amount_base), 0) AS pipeline, coalesce(CAST(sum(o.weighted_base) AS DOUBLE), 0) AS weighted,
           count(*) AS open_deals
    FROM scoped.open_pipeline($scope_all, $scope_org, $scope_rep) o
    WHERE ($customer IS NULL OR o.customer_id = $customer)
),
m AS (
    SELECT sum(l.clv) AS clv, avg(l.p_alive) AS p_alive, CAST(sum(v.margin) AS DOUBLE) AS margin, avg(v.value_index) AS value_index,
           count(*) AS customers
    FROM cu
    LEFT JOIN scoped.mart_clv($scope_all, $scope_org, $scope_rep, one_customer := $customer) l ON l.customer_id = cu.customer_id
    LEFT JOIN scoped.mart_customer_value($scope_all, $scope_org, $scope_rep, one_customer := $customer) v ON v.customer_id = cu.customer_id
)
SELECT 'revenue' AS kpi, CAST(p.v AS DOUBLE) AS value, CAST(NULL AS DOUBLE) AS extra, CAST(NULL AS DOUBLE) AS extra2 FROM p
UNION ALL SELECT 'contracted', CAST(b.v AS DOUBLE), CAST(b.n AS DOUBLE), NULL FROM b
UNION ALL SELECT 'outstanding', CAST(c.outstanding AS DOUBLE), CAST(c.overdue AS DOUBLE), CAST(c.days_overdue AS DOUBLE) FROM c
UNION ALL SELECT 'pipeline', CAST(o.pipeline AS DOUBLE), o.weighted, CAST(o.open_deals AS DOUBLE) FROM o
UNION ALL SELECT 'clv', m.clv, m.p_alive, NULL FROM m WHERE m.customers > 0
UNION ALL SELECT 'margin', m.margin, m.value_index, NULL FROM m WHERE m.customers > 0
