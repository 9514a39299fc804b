-- A deal's stage history ($deal): every stage it entered, the day it entered
-- and left it, the whole days it spent there (the current stage runs to the
-- as-of date) and, for comparison, the company's median and 75th percentile
-- days in that stage (funnel model). Without a deal: the stage entries of the
-- deals in the user's scope made in the period.
WITH visits AS (
    SELECT h.opportunity_id, h.stage, s.position, s.is_closed, h.entered_at,
           CAST(h.entered_at AS DATE) AS entered_on,
           CAST(lead(h.entered_at) OVER (PARTITION BY h.opportunity_id ORDER BY h.entered_at, s.position) AS DATE) AS left_on
    FROM scoped.opportunity_stages($scope_all, $scope_org, $scope_rep, one_deal := $deal) h
    JOIN live.stages s ON s.stage = h.stage
    WHERE ($deal IS NULL OR h.opportunity_id = $deal)
      AND h.entered_at < CAST(CAST($as_of AS DATE) + 1 AS TIMESTAMPTZ)
)
SELECT v.opportunity_id || '|' || v.stage || '|' || epoch_ms(v.entered_at) AS entry_id,
       v.opportunity_id, o.customer_name, v.stage, v.position, v.entered_on, v.left_on,
       CASE WHEN NOT v.is_closed THEN date_diff('day', v.entered_on,
                 greatest(v.entered_on, coalesce(v.left_on, o.closed_on, CAST($as_of AS DATE)))) END AS days,
       date_diff('day', o.created_on, v.entered_on) AS days_from_start,
       f.days_median AS stage_median_days, f.days_p75 AS stage_p75_days
FROM visits v
JOIN scoped.opportunity_facts($scope_all, $scope_org, $scope_rep, one_deal := $deal) o ON o.opportunity_id = v.opportunity_id
LEFT JOIN scoped.benchmark_stage_days($scope_all, $scope_org, $scope_rep) f ON f.stage = v.stage
WHERE ($deal IS NOT NULL OR v.entered_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
ORDER BY v.opportunity_id, v.entered_at, v.position
