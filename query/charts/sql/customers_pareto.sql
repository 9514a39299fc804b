-- The Pareto (80/20) curve: paying customers in the user's scope ranked by
-- revenue (payments to date, refunds netted; 7P detail), largest first, in 50
-- bands of 2 % of the customers: the share of customers up to the band and the
-- share of revenue they bring.
WITH c AS (
    SELECT cu.customer_id, CAST(d.revenue AS DOUBLE) AS revenue
    FROM scoped.mart_customer_value_detail($scope_all, $scope_org, $scope_rep) d
    JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = d.customer_id
    WHERE d.revenue > 0
      AND scoped.under_any(cu.owner_org, $orgs)
),
ranked AS (
    SELECT revenue, row_number() OVER w AS rn, count(*) OVER () AS n, sum(revenue) OVER () AS total,
           sum(revenue) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
    FROM c
    WINDOW w AS (ORDER BY revenue DESC, customer_id)
)
SELECT CAST(ceil(rn * 50.0 / n) AS INTEGER) AS band, count(*) AS customers,
       max(rn) / max(n) AS customer_share, max(cum) / max(total) AS revenue_share, sum(revenue) AS revenue
FROM ranked
GROUP BY 1
ORDER BY 1
