-- The sales funnel of the unit the page is about ($node; the whole company when
-- the tree has several roots): the funnel model's table mart_funnel, i.e. every
-- deal up to the as-of date by the stages it entered. Per stage: entered,
-- advanced (reached a later stage or was won), dropped (lost there), still open
-- there, conversion to the next stage and to won, days spent in the stage
-- (median and 75th percentile), amount and amount weighted by the stage's
-- default probability. The won stage is the last row.
-- For a rep (their own funnel: $node_rep) the same figures come from the rep's
-- deals and their stage history, computed the way the model computes them.
WITH rep_events AS (
    SELECT h.opportunity_id, h.stage, s.position, s.is_closed,
           s.is_closed AND s.default_probability > 0 AS is_win, s.default_probability,
           CAST(h.entered_at AS DATE) AS entered_on,
           CAST(lead(h.entered_at) OVER (PARTITION BY h.opportunity_id ORDER BY h.entered_at, s.position) AS DATE) AS next_on,
           CASE WHEN o.status IN ('won', 'lost') AND o.closed_on <= CAST($as_of AS DATE) THEN o.status ELSE 'open' END AS status,
           CASE WHEN o.status IN ('won', 'lost') AND o.closed_on <= CAST($as_of AS DATE) THEN o.closed_on END AS closed_on,
           o.amount_base
    FROM scoped.opportunity_stages($scope_all, $scope_org, $scope_rep) h
    JOIN live.stages s ON s.stage = h.stage
    JOIN scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o ON o.opportunity_id = h.opportunity_id
    WHERE $node_rep IS NOT NULL AND o.owner_rep_id = $node_rep
      AND o.created_on <= CAST($as_of AS DATE) AND h.entered_at < CAST(CAST($as_of AS DATE) + 1 AS TIMESTAMPTZ)
),
rep_stages AS (   -- one row per deal and stage entered, with the whole days spent in it
    SELECT opportunity_id, stage, any_value(position) AS position, bool_or(is_win) AS is_win, bool_or(is_closed) AS is_closed,
           any_value(default_probability) AS probability, any_value(status) AS status, any_value(amount_base) AS amount_base,
           sum(CASE WHEN NOT is_closed THEN date_diff('day', entered_on,
                    greatest(entered_on, coalesce(next_on, closed_on, CAST($as_of AS DATE)))) END) AS days
    FROM rep_events GROUP BY opportunity_id, stage
),
rep_flags AS (
    SELECT st.*, CASE WHEN st.is_win THEN false
                      ELSE st.status = 'won' OR coalesce(r.max_open > st.position, false) END AS advanced
    FROM rep_stages st
    JOIN (SELECT opportunity_id, max(position) FILTER (WHERE NOT is_closed) AS max_open
          FROM rep_stages GROUP BY opportunity_id) r USING (opportunity_id)
    WHERE NOT st.is_closed OR st.is_win
),
rep_funnel AS (
    SELECT stage, count(*) AS entered,
           count(*) FILTER (WHERE advanced) AS advanced,
           count(*) FILTER (WHERE NOT advanced AND NOT is_win AND status = 'lost') AS dropped,
           count(*) FILTER (WHERE NOT advanced AND NOT is_win AND status = 'open') AS still_open,
           count(*) FILTER (WHERE status = 'won') AS won,
           quantile_cont(days, 0.5) AS days_median, quantile_cont(days, 0.75) AS days_p75,
           sum(amount_base) AS amount, sum(amount_base * probability / 100) AS weighted_amount,
           bool_or(is_win) AS is_win
    FROM rep_flags GROUP BY stage
)
SELECT m.stage, m.position, m.entered, m.advanced, m.dropped, m.still_open,
       m.conversion_next, m.conversion_won, m.days_median, m.days_p75,
       CAST(m.amount AS DOUBLE) AS amount, CAST(m.weighted_amount AS DOUBLE) AS weighted_amount
FROM scoped.mart_funnel($scope_all, $scope_org, $scope_rep) m
WHERE $node_rep IS NULL AND m.org_unit_id = coalesce($node, 'all')
UNION ALL
SELECT s.stage, s.position, coalesce(f.entered, 0), coalesce(f.advanced, 0), coalesce(f.dropped, 0), coalesce(f.still_open, 0),
       CASE WHEN s.is_closed THEN NULL ELSE CAST(f.advanced AS DOUBLE) / nullif(f.entered, 0) END,
       CAST(f.won AS DOUBLE) / nullif(f.entered, 0),
       CAST(f.days_median AS DOUBLE), CAST(f.days_p75 AS DOUBLE),
       CAST(coalesce(f.amount, 0) AS DOUBLE), CAST(coalesce(f.weighted_amount, 0) AS DOUBLE)
FROM live.stages s
LEFT JOIN rep_funnel f ON f.stage = s.stage
WHERE $node_rep IS NOT NULL AND (NOT s.is_closed OR s.default_probability > 0)
ORDER BY position, stage
