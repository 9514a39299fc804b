-- Receivables aging: the unpaid part of every overdue installment (contracts
-- not cancelled or terminated, payments allocated oldest first) by how many
-- days it is overdue, in the user's scope below the org filter (contract
-- execution model; the same total as mart_receivables_aging).
WITH b AS (
    SELECT * FROM (VALUES ('0-30', 1), ('31-60', 2), ('61-90', 3), ('>90', 4)) t(bucket, pos)
),
s AS (
    SELECT CASE WHEN -d.days_until_due <= 30 THEN '0-30' WHEN -d.days_until_due <= 60 THEN '31-60'
                WHEN -d.days_until_due <= 90 THEN '61-90' ELSE '>90' END AS bucket,
           d.amount_due - d.amount_paid AS unpaid, d.contract_id, c.customer_id
    FROM scoped.mart_settlements_due($scope_all, $scope_org, $scope_rep) d
    JOIN scoped.contract_facts($scope_all, $scope_org, $scope_rep) c ON c.contract_id = d.contract_id
    WHERE d.status = 'overdue'
      AND scoped.under_any(c.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
)
SELECT b.bucket, b.pos, CAST(coalesce(sum(s.unpaid), 0) AS DOUBLE) AS amount, count(DISTINCT s.contract_id) AS contracts,
       count(DISTINCT s.customer_id) AS customers
FROM b LEFT JOIN s ON s.bucket = b.bucket
GROUP BY b.bucket, b.pos
ORDER BY b.pos
