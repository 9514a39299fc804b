-- How the forecast moved: at each of the last 12 month-ends (and the as-of
-- date), the open pipeline expected to close in the following 3 months,
-- weighted by the win probability of the stage each deal was in on that day
-- (rebuilt from opportunity_stages), next to what was actually booked in
-- those 3 months (only once the 3 months are over). Amounts are the deals'
-- current amounts (amount history is not kept).
WITH days AS (
    SELECT CAST(last_day(m) AS DATE) AS d
    FROM range(CAST(date_trunc('month', CAST($as_of AS DATE)) - INTERVAL 12 MONTH AS TIMESTAMP),
               CAST(date_trunc('month', CAST($as_of AS DATE)) AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
    UNION SELECT CAST($as_of AS DATE)
),
ends AS (
    -- day_after: the first instant after d; "entered on or before d" is
    -- entered_at < day_after (casting every history row to a date is slow)
    SELECT d, CAST(d + 1 AS TIMESTAMPTZ) AS day_after FROM days
),
opp AS (
    SELECT o.opportunity_id, o.created_on, o.closed_on, o.expected_close_on, o.amount_base, o.probability
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    WHERE scoped.under_any(o.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
),
snap AS (
    SELECT e.d, e.day_after, o.opportunity_id, o.amount_base, o.probability
    FROM ends e
    JOIN opp o ON o.created_on <= e.d AND (o.closed_on IS NULL OR o.closed_on > e.d)
              AND o.expected_close_on > e.d AND o.expected_close_on <= last_day(e.d + INTERVAL 3 MONTH)
),
stage_then AS (
    SELECT s.d, s.opportunity_id, arg_max(st.default_probability, h.entered_at) AS probability
    FROM snap s
    JOIN scoped.opportunity_stages($scope_all, $scope_org, $scope_rep) h ON h.opportunity_id = s.opportunity_id AND h.entered_at < s.day_after
    JOIN live.stages st ON st.stage = h.stage
    GROUP BY s.d, s.opportunity_id
),
forecast AS (
    SELECT s.d, CAST(sum(s.amount_base * CAST(coalesce(t.probability, s.probability) AS DECIMAL(9,4))) AS DOUBLE) / 100 AS weighted,
           sum(s.amount_base) AS pipeline
    FROM snap s LEFT JOIN stage_then t ON t.d = s.d AND t.opportunity_id = s.opportunity_id
    GROUP BY s.d
),
booked AS (
    SELECT e.d, sum(c.amount_base) AS actual
    FROM ends e
    JOIN scoped.bookings($scope_all, $scope_org, $scope_rep) c ON c.signed_on > e.d AND c.signed_on <= last_day(e.d + INTERVAL 3 MONTH)
    WHERE scoped.under_any(c.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
    GROUP BY e.d
)
SELECT e.d AS made_on,
       CAST(coalesce(f.weighted, 0) AS DOUBLE) AS weighted,
       CAST(coalesce(f.pipeline, 0) AS DOUBLE) AS pipeline,
       CAST(CASE WHEN last_day(e.d + INTERVAL 3 MONTH) <= CAST($as_of AS DATE) THEN coalesce(b.actual, 0) END AS DOUBLE) AS actual
FROM ends e
LEFT JOIN forecast f ON f.d = e.d
LEFT JOIN booked b ON b.d = e.d
ORDER BY e.d
