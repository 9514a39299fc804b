-- The stage timeline of the largest open deals ($rep; NULL = every rep in the
-- user's scope below the org filter): for each of the 12 largest, the whole
-- days spent in each stage so far (the stage history; the current stage runs to
-- the as-of date).
WITH top AS (
    SELECT o.opportunity_id, o.customer_name, o.amount_base, o.created_on
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep, one_rep := $rep) o
    WHERE scoped.under_any(o.owner_org, $orgs) AND ($rep IS NULL OR o.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
      AND o.status = 'open'
    ORDER BY o.amount_base DESC, o.opportunity_id
    LIMIT 12
),
visits AS (
    SELECT h.opportunity_id, h.stage, s.position, CAST(h.entered_at AS DATE) AS entered_on,
           CAST(lead(h.entered_at) OVER (PARTITION BY h.opportunity_id ORDER BY h.entered_at, s.position) AS DATE) AS next_on
    FROM scoped.opportunity_stages($scope_all, $scope_org, $scope_rep, one_rep := $rep, one_deals := (SELECT list(opportunity_id) FROM top)) h
    JOIN live.stages s ON s.stage = h.stage
    WHERE h.opportunity_id IN (SELECT opportunity_id FROM top)
      AND h.entered_at < CAST(CAST($as_of AS DATE) + 1 AS TIMESTAMPTZ)
)
SELECT t.opportunity_id, t.customer_name, CAST(t.amount_base AS DOUBLE) AS amount_base, t.created_on,
       v.stage, v.position,
       sum(date_diff('day', v.entered_on, greatest(v.entered_on, coalesce(v.next_on, CAST($as_of AS DATE))))) AS days
FROM top t
JOIN visits v ON v.opportunity_id = t.opportunity_id
GROUP BY ALL
ORDER BY amount_base DESC, t.opportunity_id, v.position
