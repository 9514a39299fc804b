-- The rows behind a point of the magnifier: contracts (bookings), payments
-- (collections, customers), deals open on the last day of the period
-- (pipeline) or closed in it (win rate), below the unit the page is about.
-- $point: 'u:<org_unit_id>' (a child unit), 'r:<rep_id>' (a rep attached to
-- $node), 'v:<value>' (a value of $dim), 'm:YYYY-MM' (a month); NULL = all.
WITH rows_all AS (
    SELECT 'contracts' AS entity, c.contract_id AS record_id, c.signed_on AS date, c.customer_id, c.customer_name,
           c.owner_rep_id, c.owner_org, c.industry, c.product_line, c.channel, c.source, c.status,
           c.currency, c.amount, c.amount_base
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE $metric = 'bookings' AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
    UNION ALL
    SELECT 'payments', p.payment_id, p.paid_on, p.customer_id, p.customer_name, p.owner_rep_id, p.owner_org, p.industry,
           p.product_line, p.channel, p.source, p.method, p.currency, p.amount, p.amount_base
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
    WHERE ($metric = 'collections' OR $metric = 'customers' AND p.amount >= 0)
      AND p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
    UNION ALL
    SELECT 'opportunities', o.opportunity_id, coalesce(o.closed_on, o.expected_close_on), o.customer_id, o.customer_name,
           o.owner_rep_id, o.owner_org, o.industry, o.product_line, o.channel, o.source,
           CASE WHEN o.closed_on IS NULL OR o.closed_on > CAST($to AS DATE) THEN o.stage ELSE o.status END,
           o.currency, o.amount, o.amount_base
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    WHERE $metric = 'pipeline' AND $point IS DISTINCT FROM NULL AND $point NOT LIKE 'm:%'
          AND o.created_on <= CAST($to AS DATE) AND (o.closed_on IS NULL OR o.closed_on > CAST($to AS DATE))
       OR $metric = 'pipeline' AND ($point IS NULL OR $point LIKE 'm:%')
          AND o.created_on <= least(last_day(CAST(coalesce(substr($point, 3) || '-01', $to) AS DATE)), CAST($to AS DATE))
          AND (o.closed_on IS NULL OR o.closed_on > least(last_day(CAST(coalesce(substr($point, 3) || '-01', $to) AS DATE)), CAST($to AS DATE)))
       OR $metric = 'win_rate' AND o.status IN ('won', 'lost') AND o.closed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
)
SELECT x.entity, x.record_id, x.date, x.customer_name, rp.name AS rep_name, u.name AS org_unit,
       x.industry, x.product_line, x.channel, x.source, x.status, x.currency, x.amount, x.amount_base
FROM rows_all x
LEFT JOIN live.reps rp ON rp.rep_id = x.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = x.owner_org
WHERE scoped.under(x.owner_org, $node) AND scoped.under_any(x.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, x.product_line))
  AND ($point IS NULL
       OR $point LIKE 'u:%' AND scoped.under(x.owner_org, substr($point, 3))
       OR $point LIKE 'r:%' AND x.owner_rep_id = substr($point, 3) AND ($node IS NULL OR x.owner_org = $node)
       OR $point LIKE 'v:%' AND coalesce(CASE $dim WHEN 'industry' THEN x.industry WHEN 'product_line' THEN x.product_line
                                                   WHEN 'channel' THEN x.channel WHEN 'source' THEN x.source END, '') = substr($point, 3)
       OR $point LIKE 'm:%' AND ($metric = 'pipeline' OR strftime(x.date, '%Y-%m') = substr($point, 3)))
ORDER BY x.date DESC, x.record_id
