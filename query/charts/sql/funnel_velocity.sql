-- Sales velocity = qualified open deals × average won amount × win rate ÷
-- average sales cycle in days (money per day): over all time up to the as-of
-- date (period 'all': the pipeline at the as-of date, every deal closed) and
-- for each of the last 12 months (the pipeline at the month end, the deals
-- closed in the month). From the funnel model's mart_velocity for the unit the
-- page is about; for a rep ($node_rep) from their own deals, the same way.
WITH qpos AS (   -- the qualified stage (else the first open stage)
    SELECT coalesce(min(position) FILTER (WHERE stage = 'qualified'), min(position)) AS p
    FROM live.stages WHERE NOT is_closed
),
periods AS (
    SELECT 'all' AS period, CAST(NULL AS DATE) AS f, CAST($as_of AS DATE) AS t
    UNION ALL
    SELECT strftime(m, '%Y-%m'), CAST(m AS DATE), least(CAST(last_day(m) AS DATE), CAST($as_of AS DATE))
    FROM range(CAST(date_trunc('month', CAST($as_of AS DATE)) - INTERVAL 11 MONTH AS TIMESTAMP),
               CAST(date_trunc('month', CAST($as_of AS DATE)) + INTERVAL 1 MONTH AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
),
rep_deals AS (
    SELECT o.opportunity_id, o.created_on, o.amount_base,
           CASE WHEN o.status IN ('won', 'lost') AND o.closed_on <= CAST($as_of AS DATE) THEN o.status ELSE 'open' END AS status,
           CASE WHEN o.status IN ('won', 'lost') AND o.closed_on <= CAST($as_of AS DATE) THEN o.closed_on END AS closed_on,
           q.qualified_on
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    LEFT JOIN (SELECT h.opportunity_id, CAST(min(h.entered_at) AS DATE) AS qualified_on
               FROM scoped.opportunity_stages($scope_all, $scope_org, $scope_rep) h JOIN live.stages s ON s.stage = h.stage
               WHERE NOT s.is_closed AND s.position >= (SELECT p FROM qpos)
               GROUP BY h.opportunity_id) q ON q.opportunity_id = o.opportunity_id
    WHERE $node_rep IS NOT NULL AND o.owner_rep_id = $node_rep
      AND o.created_on <= CAST($as_of AS DATE)
),
rep_v AS (
    SELECT p.period,
           count(d.opportunity_id) FILTER (WHERE d.qualified_on <= p.t AND d.created_on <= p.t
                                           AND (d.closed_on IS NULL OR d.closed_on > p.t)) AS qualified_open,
           CAST(avg(d.amount_base) FILTER (WHERE d.status = 'won' AND d.closed_on BETWEEN coalesce(p.f, d.closed_on) AND p.t) AS DOUBLE) AS avg_won_amount,
           count(d.opportunity_id) FILTER (WHERE d.status = 'won' AND d.closed_on BETWEEN coalesce(p.f, d.closed_on) AND p.t) AS won,
           count(d.opportunity_id) FILTER (WHERE d.status = 'lost' AND d.closed_on BETWEEN coalesce(p.f, d.closed_on) AND p.t) AS lost,
           CAST(avg(date_diff('day', d.created_on, d.closed_on))
                FILTER (WHERE d.status = 'won' AND d.closed_on BETWEEN coalesce(p.f, d.closed_on) AND p.t) AS DOUBLE) AS avg_cycle_days
    FROM periods p LEFT JOIN rep_deals d ON true
    GROUP BY p.period
),
rep_rows AS (
    SELECT period, qualified_open, avg_won_amount, CAST(won AS DOUBLE) / nullif(won + lost, 0) AS win_rate, avg_cycle_days
    FROM rep_v
)
SELECT * FROM (
SELECT p.period, v.qualified_open, v.avg_won_amount, v.win_rate, v.avg_cycle_days, v.velocity_per_day
FROM periods p
JOIN scoped.mart_velocity($scope_all, $scope_org, $scope_rep) v ON v.period = p.period
WHERE $node_rep IS NULL AND v.org_unit_id = coalesce($node, 'all')
UNION ALL
SELECT period, qualified_open, avg_won_amount, win_rate, avg_cycle_days,
       qualified_open * avg_won_amount * win_rate / nullif(avg_cycle_days, 0)
FROM rep_rows
WHERE $node_rep IS NOT NULL
) x
ORDER BY x.period = 'all' DESC, x.period
