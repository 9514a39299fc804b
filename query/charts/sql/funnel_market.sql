-- The market funnel: campaign responses (activities that carry a campaign) →
-- deals created from a campaign → those deals won, up to the as-of date, in the
-- user's scope below the org filter. An activity belongs to its customer's
-- owner (else to the rep who logged it). The funnel model's mart_market_funnel
-- holds the same counts for the whole company, per campaign.
WITH resp AS (
    SELECT a.activity_id
    FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a
    WHERE a.campaign_id IS NOT NULL AND a.occurred_on <= CAST($as_of AS DATE)
      AND scoped.under_any(a.owner_org, $orgs)
),
deals AS (
    SELECT o.opportunity_id, o.status = 'won' AND o.closed_on <= CAST($as_of AS DATE) AS won
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    WHERE o.campaign_id IS NOT NULL AND o.created_on <= CAST($as_of AS DATE)
      AND scoped.under_any(o.owner_org, $orgs)
)
SELECT 'responses' AS stage, 1 AS position, (SELECT count(*) FROM resp) AS n
UNION ALL SELECT 'opportunities', 2, (SELECT count(*) FROM deals)
UNION ALL SELECT 'won', 3, (SELECT count(*) FILTER (WHERE won) FROM deals)
ORDER BY position
