-- Segment movement: each customer's RFM segment at as_of against the segment
-- at the comparison date (models.rfm.movement_days before as_of, scored with
-- the quintile edges of that date). 'none' = no purchase by that date (a
-- customer new since, or one whose only payments were refunds).

CREATE OR REPLACE TABLE mart_rfm_movement AS
SELECT coalesce(n.customer_id, p.customer_id) AS customer_id,
       coalesce(p.segment, 'none') AS previous_segment,
       coalesce(n.segment, 'none') AS segment,
       CAST({{.Previous}} AS DATE) AS previous_as_of,
       getvariable('as_of') AS as_of
FROM mart_rfm n
FULL OUTER JOIN rfm_previous p ON p.customer_id = n.customer_id
ORDER BY customer_id;
COMMENT ON TABLE mart_rfm_movement IS 'Each customer''s RFM segment at as_of against its segment at previous_as_of (models.rfm.movement_days before, default 90), each scored with the quintiles of its own date. none = no purchase by that date. See docs/models/rfm.md.';
COMMENT ON COLUMN mart_rfm_movement.previous_segment IS 'Segment at previous_as_of, or none when the customer had no purchase by then.';
COMMENT ON COLUMN mart_rfm_movement.segment IS 'Segment at as_of (as in mart_rfm), or none.';
