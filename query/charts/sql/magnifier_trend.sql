-- Magnifier: the metric by month over the period, next to the comparison
-- period month by month ($cmp_shift months earlier), for everything below the
-- unit the page is about. Metrics as in magnifier_breakdown.sql; for the
-- pipeline, the open deals on the last day of each month.
-- (The pipeline at a day is the running sum of the deals created less those
-- closed up to it, not a range join of every deal with every month: on the
-- large company 0.11 s instead of 0.72 s. Joining the other metrics' rows to
-- their month by equality on date_trunc was slower than the range join:
-- customers 1.9 s against 1.5 s, collections 0.86 s against 0.24 s.)
-- (Paying customers, over periods of up to 64 months, are counted from one
-- row per customer with a bit for each month of the period, and of the
-- comparison period, it paid in: counting distinct customers month by month
-- hashed every (month, customer) pair, 6 M from the large company's 12 M
-- payments of two years. The chart on the large company: 12 months with the
-- year before, medians of 6, 4.4 s -> 3.3 s; year to date 3.2 s -> 2.8 s.
-- The bits of whole months come from facts.paying_months, a row per
-- customer, year and dimensions, and only the days of a partial first or
-- last month from the payments: 12 months with the year before, 1.7 s ->
-- 0.5 s.)
WITH months AS (
    SELECT CAST(m AS DATE) AS month, least(CAST(last_day(m) AS DATE), CAST($to AS DATE)) AS month_end
    FROM range(CAST(date_trunc('month', CAST($from AS DATE)) AS TIMESTAMP), CAST(CAST($to AS DATE) + INTERVAL 1 DAY AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
),
all_months AS (
    SELECT month, month_end, false AS is_cmp FROM months
    UNION ALL
    SELECT CAST(month - to_months(CAST($cmp_shift AS INTEGER)) AS DATE),
           CAST(last_day(month - to_months(CAST($cmp_shift AS INTEGER))) AS DATE), true
    FROM months WHERE $cmp_shift IS NOT NULL
),
dated AS (
    SELECT c.owner_rep_id, c.owner_org, c.product_line, c.customer_id, c.signed_on AS d, c.amount_base AS v, NULL AS won
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c WHERE $metric = 'bookings'
    UNION ALL
    SELECT p.owner_rep_id, p.owner_org, p.product_line, p.customer_id, p.paid_on, p.amount_base, NULL
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p WHERE $metric = 'collections' OR $metric = 'customers' AND p.amount >= 0
    UNION ALL
    SELECT o.owner_rep_id, o.owner_org, o.product_line, o.customer_id, o.closed_on, o.amount_base, o.status = 'won'
    FROM scoped.closed_deals($scope_all, $scope_org, $scope_rep) o WHERE $metric = 'win_rate'
),
dated_scoped AS (
    SELECT * FROM dated f
    WHERE scoped.under(f.owner_org, $node) AND scoped.under_any(f.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, f.product_line))
),
pipeline_deals AS (
    SELECT o.created_on, o.closed_on, o.amount_base
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    WHERE $metric = 'pipeline' AND o.created_on IS NOT NULL
      AND scoped.under(o.owner_org, $node) AND scoped.under_any(o.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
),
pipeline_changes AS (
    -- a deal opens on the day it was created and leaves on the day it
    -- closed (or was created, when it closed earlier: it never opened)
    SELECT created_on AS d, sum(amount_base) AS amount, count(*) AS deals FROM pipeline_deals GROUP BY 1
    UNION ALL
    SELECT greatest(created_on, closed_on), -sum(amount_base), -count(*) FROM pipeline_deals WHERE closed_on IS NOT NULL GROUP BY 1
),
pipeline_running AS (
    SELECT d, sum(sum(amount)) OVER (ORDER BY d) AS amount, sum(sum(deals)) OVER (ORDER BY d) AS deals
    FROM pipeline_changes GROUP BY d
),
-- the first months of the period and of the comparison period, and the
-- comparison period's last day (NULL without one). Where they filter the
-- payments they are written out again from the parameters (constants the
-- scan skips row groups by; a column of this row is not), and so is the
-- period's length in months where it decides between the two ways to count
-- (so that the plan drops the other one)
bounds AS (
    SELECT CAST(date_trunc('month', CAST($from AS DATE)) AS DATE) AS first_month,
           scoped.month_index(CAST($from AS DATE)) AS first_idx,
           -- the period's whole months: from the first month that starts in
           -- it to the last that ends in it (none when the first is later)
           scoped.month_index(scoped.whole_months_start(CAST($from AS DATE))) AS whole_first_idx,
           scoped.month_index(scoped.whole_months_end(CAST($to AS DATE))) AS whole_last_idx,
           scoped.month_index(CAST($from AS DATE)) - CAST($cmp_shift AS INTEGER) AS cmp_first_idx,
           scoped.month_index(CAST($to AS DATE)) - CAST($cmp_shift AS INTEGER) AS cmp_last_idx,
           CAST(date_trunc('month', CAST($from AS DATE)) - to_months(CAST($cmp_shift AS INTEGER)) AS DATE) AS cmp_first_month,
           CAST(last_day(CAST($to AS DATE) - to_months(CAST($cmp_shift AS INTEGER))) AS DATE) AS cmp_last_day
),
customer_bits AS (
    SELECT customer_id, bit_or(cur) AS cur, bit_or(cmp) AS cmp
    FROM (
        -- the period's whole months and the comparison's (whole months
        -- too), from the paying customers' month bits (facts.sql)
        SELECT m.customer_id,
               scoped.month_bits(m.months, m.year, b.first_idx, b.whole_first_idx, b.whole_last_idx) AS cur,
               scoped.month_bits(m.months, m.year, b.cmp_first_idx, b.cmp_first_idx, b.cmp_last_idx) AS cmp
        FROM scoped.paying_months($scope_all, $scope_org, $scope_rep) m, bounds b
        WHERE $metric = 'customers' AND datediff('month', CAST($from AS DATE), CAST($to AS DATE)) < 64
          AND (m.year BETWEEN year(CAST($from AS DATE)) AND year(CAST($to AS DATE))
               OR m.year BETWEEN year(b.cmp_first_month) AND year(b.cmp_last_day))
          AND scoped.under(m.owner_org, $node) AND scoped.under_any(m.owner_org, $orgs)
          AND ($product_lines IS NULL OR list_contains($product_lines, m.product_line))
        UNION ALL
        -- the days of the period's partial first and last months, from
        -- the payments (scoped.paying_days)
        SELECT p.customer_id, CAST(1 AS UBIGINT) << CAST(datediff('month', b.first_month, p.paid_on) AS INTEGER), NULL
        FROM scoped.paying_days($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE)) p, bounds b
        WHERE $metric = 'customers' AND datediff('month', CAST($from AS DATE), CAST($to AS DATE)) < 64
          AND scoped.under(p.owner_org, $node) AND scoped.under_any(p.owner_org, $orgs)
          AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
    )
    GROUP BY customer_id
),
customers_by_place AS (
    SELECT r.i,
           count(*) FILTER (WHERE c.cur & (CAST(1 AS UBIGINT) << CAST(r.i AS INTEGER)) <> 0) AS cur,
           count(*) FILTER (WHERE c.cmp & (CAST(1 AS UBIGINT) << CAST(r.i AS INTEGER)) <> 0) AS cmp
    FROM customer_bits c, range(datediff('month', CAST($from AS DATE), CAST($to AS DATE)) + 1) r(i)
    GROUP BY r.i
),
by_month AS (
    SELECT m.month, m.is_cmp,
           CASE $metric
             WHEN 'customers' THEN count(DISTINCT f.customer_id)
             WHEN 'win_rate' THEN count(*) FILTER (WHERE f.won) / nullif(count(f.d), 0)
             ELSE sum(f.v)
           END AS value
    FROM all_months m
    LEFT JOIN dated_scoped f ON f.d BETWEEN m.month AND m.month_end
                           AND (m.is_cmp OR f.d BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
    WHERE $metric <> 'pipeline'
      AND ($metric <> 'customers' OR datediff('month', CAST($from AS DATE), CAST($to AS DATE)) >= 64)
    GROUP BY m.month, m.is_cmp
    UNION ALL
    SELECT m.month, m.is_cmp, coalesce(CASE WHEN m.is_cmp THEN c.cmp ELSE c.cur END, 0)
    FROM (SELECT *, datediff('month', min(month) OVER (PARTITION BY is_cmp), month) AS i FROM all_months) m
    LEFT JOIN customers_by_place c USING (i)
    WHERE $metric = 'customers' AND datediff('month', CAST($from AS DATE), CAST($to AS DATE)) < 64
    UNION ALL
    -- open at the end of day e: created by e and not closed by e
    SELECT m.month, m.is_cmp,
           (SELECT CASE WHEN arg_max(c.deals, c.d) > 0 THEN arg_max(c.amount, c.d) END FROM pipeline_running c WHERE c.d <= m.month_end)
    FROM all_months m
    WHERE $metric = 'pipeline'
)
SELECT m.month,
       CAST(cur.value AS DOUBLE) AS value,
       CAST(prev.value AS DOUBLE) AS compare
FROM months m
LEFT JOIN by_month cur ON cur.month = m.month AND NOT cur.is_cmp
LEFT JOIN by_month prev ON prev.is_cmp AND prev.month = CAST(m.month - to_months(CAST($cmp_shift AS INTEGER)) AS DATE)
ORDER BY m.month
