-- The deals behind the velocity figures: $point = 'qualified' (open at the
-- as-of date, having reached the qualified stage or a later one), 'won' or
-- 'closed' (won or lost, up to the as-of date), or a month 'YYYY-MM' (closed in
-- it); NULL = the qualified open deals and every closed deal.
WITH qpos AS (
    SELECT coalesce(min(position) FILTER (WHERE stage = 'qualified'), min(position)) AS p
    FROM live.stages WHERE NOT is_closed
),
qualified AS (
    SELECT h.opportunity_id, CAST(min(h.entered_at) AS DATE) AS qualified_on
    FROM scoped.opportunity_stages($scope_all, $scope_org, $scope_rep) h JOIN live.stages s ON s.stage = h.stage
    WHERE NOT s.is_closed AND s.position >= (SELECT p FROM qpos) AND h.entered_at < CAST(CAST($as_of AS DATE) + 1 AS TIMESTAMPTZ)
    GROUP BY h.opportunity_id
),
deals AS (
    SELECT o.*, q.qualified_on,
           CASE WHEN o.status IN ('won', 'lost') AND o.closed_on <= CAST($as_of AS DATE) THEN o.status ELSE 'open' END AS status_as_of
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    LEFT JOIN qualified q ON q.opportunity_id = o.opportunity_id
    WHERE (o.owner_rep_id = $node_rep OR $node_rep IS NULL AND scoped.under(o.owner_org, $node) AND scoped.under_any(o.owner_org, $orgs))
      AND o.created_on <= CAST($as_of AS DATE)
)
SELECT d.opportunity_id, d.customer_id, d.customer_name, d.owner_rep_id AS rep_id, r.name AS rep_name, u.name AS org_unit,
       CASE WHEN d.status_as_of = 'open' THEN d.stage ELSE d.status_as_of END AS status,
       d.created_on, d.qualified_on, CASE WHEN d.status_as_of <> 'open' THEN d.closed_on END AS closed_on,
       CASE WHEN d.status_as_of = 'won' THEN date_diff('day', d.created_on, d.closed_on) END AS cycle_days,
       d.currency, d.amount, d.amount_base
FROM deals d
LEFT JOIN live.reps r ON r.rep_id = d.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = d.owner_org
WHERE ($point IS NULL AND (d.status_as_of <> 'open' OR d.qualified_on IS NOT NULL)
       OR $point = 'qualified' AND d.status_as_of = 'open' AND d.qualified_on IS NOT NULL
       OR $point = 'won' AND d.status_as_of = 'won'
       OR $point = 'closed' AND d.status_as_of <> 'open'
       OR $point LIKE '____-__' AND d.status_as_of <> 'open' AND strftime(d.closed_on, '%Y-%m') = $point)
ORDER BY coalesce(d.closed_on, d.created_on) DESC, d.opportunity_id
