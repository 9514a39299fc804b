-- Magnifier: one metric broken down one level below the unit the page is
-- about ($node), or by a dimension, for the period and the comparison period.
--   $metric: bookings (contracts signed), collections (payments, refunds netted),
--            pipeline (open deals on the last day of the period; amount),
--            win_rate (deals closed in the period: won / (won + lost), by count),
--            customers (distinct customers with a payment in the period)
--   $dim:    org (the child units of $node, and reps attached to $node itself),
--            industry, product_line, channel (direct or partner kind), source
WITH facts AS (
    SELECT c.owner_rep_id, c.owner_org, c.industry, c.product_line, c.channel, c.source, c.customer_id,
           c.amount_base AS v, NULL AS won,
           c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE) AS cur,
           coalesce(c.signed_on BETWEEN CAST($cmp_from AS DATE) AND CAST($cmp_to AS DATE), false) AS cmp
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c WHERE $metric = 'bookings'
    UNION ALL
    SELECT p.owner_rep_id, p.owner_org, p.industry, p.product_line, p.channel, p.source, p.customer_id,
           p.amount_base, NULL,
           p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE),
           coalesce(p.paid_on BETWEEN CAST($cmp_from AS DATE) AND CAST($cmp_to AS DATE), false)
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p WHERE $metric = 'collections'
    UNION ALL
    -- paying customers: the whole months of the period and of the comparison
    -- period from the customers' month bits (facts.sql), the days of their
    -- partial first and last months from the payments (scoped.paying_days)
    SELECT m.owner_rep_id, m.owner_org, m.industry, m.product_line, m.channel, m.source, m.customer_id, NULL, NULL,
           scoped.month_bits(m.months, m.year, m.year * 12,
                             scoped.month_index(scoped.whole_months_start(CAST($from AS DATE))),
                             scoped.month_index(scoped.whole_months_end(CAST($to AS DATE)))) <> 0,
           scoped.month_bits(m.months, m.year, m.year * 12,
                             scoped.month_index(scoped.whole_months_start(CAST($cmp_from AS DATE))),
                             scoped.month_index(scoped.whole_months_end(CAST($cmp_to AS DATE)))) <> 0
    FROM scoped.paying_months($scope_all, $scope_org, $scope_rep) m
    WHERE $metric = 'customers'
      AND (m.year BETWEEN year(CAST($from AS DATE)) AND year(CAST($to AS DATE)) OR m.year BETWEEN year(CAST($cmp_from AS DATE)) AND year(CAST($cmp_to AS DATE)))
    UNION ALL
    SELECT p.owner_rep_id, p.owner_org, p.industry, p.product_line, p.channel, p.source, p.customer_id, NULL, NULL, true, false
    FROM scoped.paying_days($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE)) p
    WHERE $metric = 'customers'
    UNION ALL
    SELECT p.owner_rep_id, p.owner_org, p.industry, p.product_line, p.channel, p.source, p.customer_id, NULL, NULL, false, true
    FROM scoped.paying_days($scope_all, $scope_org, $scope_rep, CAST($cmp_from AS DATE), CAST($cmp_to AS DATE)) p
    WHERE $metric = 'customers'
    UNION ALL
    SELECT o.owner_rep_id, o.owner_org, o.industry, o.product_line, o.channel, o.source, o.customer_id,
           o.amount_base, NULL,
           o.created_on <= CAST($to AS DATE) AND (o.closed_on IS NULL OR o.closed_on > CAST($to AS DATE)),
           coalesce(o.created_on <= CAST($cmp_to AS DATE) AND (o.closed_on IS NULL OR o.closed_on > CAST($cmp_to AS DATE)), false)
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o WHERE $metric = 'pipeline'
    UNION ALL
    SELECT o.owner_rep_id, o.owner_org, o.industry, o.product_line, o.channel, o.source, o.customer_id,
           o.amount_base, o.status = 'won',
           o.closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE),
           coalesce(o.closed_on BETWEEN CAST($cmp_from AS DATE) AND CAST($cmp_to AS DATE), false)
    FROM scoped.closed_deals($scope_all, $scope_org, $scope_rep) o WHERE $metric = 'win_rate'
),
scoped AS (
    SELECT f.* FROM facts f
    WHERE scoped.under(f.owner_org, $node) AND scoped.under_any(f.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, f.product_line))
      AND (f.cur OR f.cmp)
),
keyed AS (
    SELECT CASE $dim
             WHEN 'org' THEN CASE WHEN $node IS NULL OR s.owner_org = $node THEN 'rep:' || coalesce(s.owner_rep_id, '?')
                                  ELSE k.child_id END
             WHEN 'industry' THEN coalesce(s.industry, '')
             WHEN 'product_line' THEN coalesce(s.product_line, '')
             WHEN 'channel' THEN coalesce(s.channel, '')
             WHEN 'source' THEN coalesce(s.source, '')
           END AS key, s.*
    FROM scoped s
    LEFT JOIN scoped.child_of($node) k ON $dim = 'org' AND k.org_unit_id = s.owner_org
),
agg AS (
    SELECT key,
           CASE $metric
             WHEN 'customers' THEN count(DISTINCT customer_id) FILTER (WHERE cur)
             WHEN 'win_rate' THEN count(*) FILTER (WHERE cur AND won) / nullif(count(*) FILTER (WHERE cur), 0)
             ELSE sum(v) FILTER (WHERE cur)
           END AS value,
           CASE $metric
             WHEN 'customers' THEN count(DISTINCT customer_id) FILTER (WHERE cmp)
             WHEN 'win_rate' THEN count(*) FILTER (WHERE cmp AND won) / nullif(count(*) FILTER (WHERE cmp), 0)
             ELSE sum(v) FILTER (WHERE cmp)
           END AS compare,
           -- (deals closed, for the win rate's share; for paying customers the
           -- customers, whose rows count months)
           CASE $metric WHEN 'customers' THEN count(DISTINCT customer_id) FILTER (WHERE cur)
                        ELSE count(*) FILTER (WHERE cur) END AS n
    FROM keyed GROUP BY key
)
SELECT a.key,
       CASE WHEN $dim = 'org' THEN coalesce(u.name, r.name, a.key) ELSE a.key END AS label,
       CASE WHEN $dim <> 'org' THEN 'value' WHEN a.key LIKE 'rep:%' THEN 'rep' ELSE 'org' END AS kind,
       CAST(a.value AS DOUBLE) AS value, CAST(a.compare AS DOUBLE) AS compare, a.n
FROM agg a
LEFT JOIN live.org_units u ON $dim = 'org' AND u.org_unit_id = a.key
LEFT JOIN live.reps r ON $dim = 'org' AND 'rep:' || r.rep_id = a.key
ORDER BY value DESC NULLS LAST, label
LIMIT 200
