-- Bookings or collections ($metric) by ISO week (Monday to Sunday) against the
-- weekly split of the target (mart_targets), for the short view: the weeks
-- of the period's last 8 weeks through the end of the month of its last day
-- (month to date: the weeks of the month; the weeks still to come show their
-- target). The unit is the one the page is about ($units, or the rep
-- $node_rep), or the rep whose page it is ($rep). Whole weeks: a week that
-- starts before the period counts its days before it too, as its target does.
-- With a product-line filter there is no target (targets are not per line).
WITH span AS (
    SELECT CAST(date_trunc('week', greatest(CAST($from AS DATE), CAST($to AS DATE) - 55)) AS DATE) AS w_from,
           CAST(last_day(CAST($to AS DATE)) AS DATE) AS d_to
),
weeks AS (
    SELECT CAST(w AS DATE) AS week_start
    FROM span, range(CAST(w_from AS TIMESTAMP), CAST(d_to + 1 AS TIMESTAMP), INTERVAL 7 DAY) r(w)
),
facts AS (
    SELECT c.signed_on AS d, c.amount_base AS v
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE $metric = 'bookings'
      AND scoped.under_any(c.owner_org, $orgs) AND ($rep IS NULL OR c.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND c.signed_on BETWEEN (SELECT w_from FROM span) AND CAST($to AS DATE)
    UNION ALL
    SELECT p.paid_on, p.amount_base
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
    WHERE $metric = 'collections'
      AND scoped.under_any(p.owner_org, $orgs) AND ($rep IS NULL OR p.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
      AND p.paid_on BETWEEN (SELECT w_from FROM span) AND CAST($to AS DATE)
),
actual AS (
    SELECT CAST(date_trunc('week', d) AS DATE) AS week_start, sum(v) AS v FROM facts GROUP BY 1
),
target AS (
    SELECT t.week_start, sum(t.target) AS v
    FROM scoped.mart_targets($scope_all, $scope_org, $scope_rep) t
    WHERE t.metric = $metric AND $product_lines IS NULL
      AND (($rep IS NOT NULL AND t.scope = 'rep' AND t.scope_id = $rep)
        OR ($rep IS NULL AND ((t.scope <> 'rep' AND list_contains($units, t.scope_id)) OR (t.scope = 'rep' AND t.scope_id = $node_rep))))
    GROUP BY 1
)
SELECT w.week_start,
       CAST(CASE WHEN w.week_start <= CAST($to AS DATE) THEN coalesce(a.v, 0) END AS DOUBLE) AS actual,
       CAST(t.v AS DOUBLE) AS target
FROM weeks w
LEFT JOIN actual a ON a.week_start = w.week_start
LEFT JOIN target t ON t.week_start = w.week_start
ORDER BY w.week_start
