-- Duplicate deal registrations, in steps (.Step; collision.go runs them).
-- pl_col_keys (customer_id, name_key) holds the normalised customer names;
-- pl_col_similar (key_a, key_b, score) the pairs of different name keys whose
-- cores (the key without the customer's city) are at least
-- models.collision.similarity alike: 1 − Levenshtein distance in characters ÷
-- the longer length (collision.go, similarNamePairs). Both come from the
-- collision cache (collision_cache.sql) or are computed directly.
-- {{.WindowDays}} comes from models.collision.window_days.
{{if eq .Step "deals" -}}
-- Every deal with its customer key, registrant (the partner if the deal came
-- through one, else the owner rep), product line and registration time.
CREATE OR REPLACE TEMP TABLE pl_col_deals AS
SELECT d.opportunity_id, d.customer_id, coalesce(k.name_key, '') AS name_key,
       coalesce('partner:' || d.partner_id, 'rep:' || d.owner_rep_id, '(none)') AS registrant,
       d.owner_rep_id, d.partner_id, d.rep_org_unit_id, coalesce(d.product_line, '') AS line,
       d.created_at, d.created_on, d.closed_on, d.status
FROM pl_deals d LEFT JOIN pl_col_keys k USING (customer_id);

{{- else if eq .Step "matches" -}}
-- .Later and .Earlier are pl_col_deals, or the deals of it to match (the
-- per-deal cache updates some: collision_cache.sql).
-- Earlier deals that match a deal: same product line, registered before it
-- (ties by opportunity_id) and at most WindowDays earlier, still open when it
-- was registered, and on the same customer key (the same customer, or another
-- customer whose normalised name is equal) or a similar key.
CREATE OR REPLACE TEMP TABLE {{.Into}} AS
WITH exact AS (
    SELECT o.opportunity_id, p.opportunity_id AS earlier_id, o.name_key AS customer_key,
           o.registrant <> p.registrant AS other_registrant,
           CASE WHEN o.customer_id = p.customer_id THEN 'same_customer' ELSE 'same_name' END AS match_kind,
           1.0 AS score, o.created_at, o.created_on, p.created_at AS p_created_at, p.created_on AS p_created_on, p.closed_on AS p_closed_on
    FROM {{.Later}} o
    JOIN {{.Earlier}} p ON p.line = o.line AND p.name_key = o.name_key
    WHERE o.name_key <> '' OR o.customer_id = p.customer_id
),
similar_pairs AS (
    SELECT o.opportunity_id, p.opportunity_id, o.name_key, o.registrant <> p.registrant, 'similar_name',
           s.score, o.created_at, o.created_on, p.created_at, p.created_on, p.closed_on
    FROM {{.Later}} o
    JOIN pl_col_similar s ON s.key_a = o.name_key
    JOIN {{.Earlier}} p ON p.name_key = s.key_b AND p.line = o.line
),
cand AS (SELECT * FROM exact UNION ALL SELECT * FROM similar_pairs)
SELECT opportunity_id, earlier_id, customer_key, other_registrant, match_kind, score
FROM cand
-- registered before: earlier created_at, ties by opportunity_id (compared
-- directly: numbering every deal in that order is a sort of all of them on
-- one thread)
WHERE (p_created_at < created_at OR (p_created_at = created_at AND earlier_id < opportunity_id))
  AND p_created_on >= created_on - {{.WindowDays}}
  AND (p_closed_on IS NULL OR p_closed_on > created_on);
{{- else if eq .Step "mart" -}}
CREATE OR REPLACE TABLE mart_collisions AS
WITH firsts AS (
    -- the first registration among the deal itself and every earlier match
    SELECT m.opportunity_id, d.opportunity_id AS first_id, d.registrant, d.created_at
    FROM (SELECT opportunity_id, earlier_id AS id FROM pl_col_matches
          UNION SELECT opportunity_id, opportunity_id FROM pl_col_matches) m
    JOIN pl_col_deals d ON d.opportunity_id = m.id
    QUALIFY row_number() OVER (PARTITION BY m.opportunity_id ORDER BY d.created_at, d.opportunity_id) = 1
)
SELECT m.opportunity_id, m.earlier_id AS conflicts_with_opportunity_id, m.customer_key, m.match_kind,
       round(m.score, 6) AS score,
       f.first_id AS first_registered_opportunity_id, f.registrant AS first_registrant, f.created_at AS registered_at,
       CASE WHEN o.status = 'open' AND p.status = 'open' THEN 'open' ELSE 'closed' END AS status,
       o.registrant, p.registrant AS conflicts_with_registrant,
       o.customer_id, p.customer_id AS conflicts_with_customer_id,
       o.owner_rep_id, o.rep_org_unit_id AS org_unit_id, o.created_at,
       getvariable('as_of') AS as_of
FROM pl_col_matches m
JOIN firsts f USING (opportunity_id)
JOIN pl_col_deals o ON o.opportunity_id = m.opportunity_id
JOIN pl_col_deals p ON p.opportunity_id = m.earlier_id
WHERE m.other_registrant
ORDER BY o.created_at, o.opportunity_id, p.created_at, p.opportunity_id;
COMMENT ON TABLE mart_collisions IS 'Possible duplicate deal registrations: a deal (opportunity_id) registered while an earlier deal of another registrant (rep, or partner when the deal came through one) on the same product line was open and at most models.collision.window_days (90) older, on the same customer, a customer whose normalised name is equal, or one whose normalised name without its city is similar (1 - character Levenshtein distance / longer length >= models.collision.similarity, 0.9). One row per conflicting pair. The first registrant keeps the deal.';
COMMENT ON COLUMN mart_collisions.customer_key IS 'The normalised name of the deal''s customer: NFKC (full-width to half-width), lower case, punctuation and spacing removed, legal forms (有限公司, 股份有限公司, 集团, Co., Ltd., Inc. …) cut off the end.';
COMMENT ON COLUMN mart_collisions.match_kind IS 'same_customer (same customer_id), same_name (different customers, equal normalised names) or similar_name.';
COMMENT ON COLUMN mart_collisions.score IS 'Name similarity: 1 for same_customer and same_name, else 1 - character Levenshtein distance / longer length of the normalised names without the city. Only names whose first two characters (after the city) agree are compared.';
COMMENT ON COLUMN mart_collisions.first_registered_opportunity_id IS 'The earliest registration among the deal and all earlier matching deals (also those of the same registrant): the one that keeps the customer.';
COMMENT ON COLUMN mart_collisions.first_registrant IS 'rep:<rep_id> or partner:<partner_id> of the first registration.';
COMMENT ON COLUMN mart_collisions.status IS 'open when both deals are still open at as_of (to rule on), else closed.';
COMMENT ON COLUMN mart_collisions.org_unit_id IS 'The org unit of the deal''s owner rep (for data scopes).';
{{- end}}
