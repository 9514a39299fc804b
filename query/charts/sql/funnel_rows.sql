-- The deals behind a stage of the funnel ($point = a stage): those that entered
-- it by the as-of date (the stage history), with the day they first entered it
-- and the whole days they spent in it; NULL = every deal of the funnel (once,
-- with its current stage). Deals of the unit the page is about (or the rep's own).
WITH visits AS (
    SELECT h.opportunity_id, h.stage, CAST(h.entered_at AS DATE) AS entered_on,
           CAST(lead(h.entered_at) OVER (PARTITION BY h.opportunity_id ORDER BY h.entered_at, s.position) AS DATE) AS next_on,
           s.is_closed
    FROM scoped.opportunity_stages($scope_all, $scope_org, $scope_rep) h
    JOIN live.stages s ON s.stage = h.stage
    WHERE h.entered_at < CAST(CAST($as_of AS DATE) + 1 AS TIMESTAMPTZ)
),
in_stage AS (
    SELECT v.opportunity_id, min(v.entered_on) AS entered_on,
           sum(CASE WHEN NOT v.is_closed THEN date_diff('day', v.entered_on,
                    greatest(v.entered_on, coalesce(v.next_on, o.closed_on, CAST($as_of AS DATE)))) END) AS days_in_stage
    FROM visits v JOIN scoped.opportunities($scope_all, $scope_org, $scope_rep) o ON o.opportunity_id = v.opportunity_id
    WHERE v.stage = $point
    GROUP BY v.opportunity_id
)
SELECT o.opportunity_id, o.customer_id, o.customer_name, o.owner_rep_id AS rep_id, r.name AS rep_name, u.name AS org_unit,
       CASE WHEN o.status = 'open' THEN o.stage ELSE o.status END AS status,
       o.created_on, coalesce(i.entered_on, o.created_on) AS entered_on, i.days_in_stage,
       o.closed_on, o.product_line, o.currency, o.amount, o.amount_base
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
LEFT JOIN in_stage i ON i.opportunity_id = o.opportunity_id
LEFT JOIN live.reps r ON r.rep_id = o.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = o.owner_org
WHERE (o.owner_rep_id = $node_rep OR $node_rep IS NULL AND scoped.under(o.owner_org, $node) AND scoped.under_any(o.owner_org, $orgs))
  AND o.created_on <= CAST($as_of AS DATE)
  AND ($point IS NULL OR i.opportunity_id IS NOT NULL)
ORDER BY o.amount_base DESC, o.opportunity_id
