-- pl_deal_reach: per deal, the furthest open stage position reached by as_of
-- (NULL for a deal with no stage). Every row of a deal in pl_deal_stages
-- carries it; the deal's current row is one per deal.
CREATE OR REPLACE TEMP TABLE pl_deal_reach AS
SELECT d.opportunity_id, ds.max_open_position
FROM pl_deals d LEFT JOIN pl_deal_stages ds ON ds.opportunity_id = d.opportunity_id AND ds.is_current;
