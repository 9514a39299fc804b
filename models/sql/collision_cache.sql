-- The collision cache (models/collision_cache.go): collision's as-of
-- independent part kept across refreshes in schema model_cache, so that a
-- daily load — which moves the as-of date — matches only the deals it can
-- have changed instead of all of them:
--   col_names   (customer_id, name_key, city): every customer's normalised
--               name and city (collision.go, collisionKey, collisionCity);
--   col_similar (key_a, key_b, score): the similar pairs of those names;
--   col_matches (opportunity_id, earlier_id, customer_key, other_registrant,
--               match_kind, score): every deal's earlier matching deals.
-- When as_of is on or after every deal's creation and close (the default
-- as-of date always is), pl_deals holds every deal with its current status,
-- so none of these depends on as_of: the mart (collision.sql, "mart") adds
-- it. .Step says which part runs.
{{if eq .Step "valid" -}}
SELECT coalesce(getvariable('as_of') >= (SELECT max(d) FROM (
    SELECT CAST(max(created_at) AS DATE) AS d FROM live.opportunities
    UNION ALL SELECT max(closed_on) FROM live.opportunities)), true);
{{- else if eq .Step "changed_customers" -}}
-- the customers a load after the cache's wrote (their names are normalised
-- again into col_names_upd, collision_cache.go)
CREATE OR REPLACE TEMP TABLE col_changed_customers AS
SELECT DISTINCT customer_id FROM main.customers WHERE _load_id > {{.Since}};
{{- else if eq .Step "changed_keys" -}}
-- the name keys whose customers, or whose customers' cities, changed: their
-- similar pairs are computed again (a key's core and city follow from its
-- customers), and their deals matched again
CREATE OR REPLACE TEMP TABLE col_changed_keys AS
WITH old AS (
    SELECT customer_id, name_key, city FROM model_cache.col_names
    WHERE customer_id IN (SELECT customer_id FROM col_changed_customers)
), diff AS (
    (SELECT * FROM old EXCEPT SELECT * FROM col_names_upd)
    UNION ALL
    (SELECT * FROM col_names_upd EXCEPT SELECT * FROM old)
)
SELECT DISTINCT name_key FROM diff WHERE name_key <> '';
CREATE OR REPLACE TEMP VIEW col_names_cur AS
SELECT * FROM model_cache.col_names WHERE customer_id NOT IN (SELECT customer_id FROM col_changed_customers)
UNION ALL SELECT * FROM col_names_upd;
{{- else if eq .Step "similar" -}}
-- the pairs as they are now: the cached ones without those of a changed key,
-- and the changed keys' own (col_similar_upd)
CREATE OR REPLACE TEMP VIEW col_similar_cur AS
SELECT * FROM model_cache.col_similar
WHERE key_a NOT IN (SELECT name_key FROM col_changed_keys) AND key_b NOT IN (SELECT name_key FROM col_changed_keys)
UNION ALL SELECT * FROM col_similar_upd;
{{- else if eq .Step "changed_deals" -}}
-- The deals to match again: those a load wrote, those whose name key changed
-- (they find other deals now), and every later deal that matched one of them
-- before (col_matches) or may match one now (col_found, matched with only
-- the changed deals as the earlier side).
CREATE OR REPLACE TEMP TABLE col_changed_deals AS
SELECT * FROM pl_col_deals
WHERE opportunity_id IN (SELECT opportunity_id FROM main.opportunities WHERE _load_id > {{.Since}})
   OR name_key IN (SELECT name_key FROM col_changed_keys);
{{- else if eq .Step "affected" -}}
CREATE OR REPLACE TEMP TABLE col_affected AS
SELECT * FROM pl_col_deals
WHERE opportunity_id IN (
    SELECT opportunity_id FROM col_changed_deals
    UNION SELECT opportunity_id FROM model_cache.col_matches WHERE earlier_id IN (SELECT opportunity_id FROM col_changed_deals)
    UNION SELECT opportunity_id FROM col_found);
DROP TABLE col_found;
DROP TABLE col_changed_deals;
{{- else if eq .Step "schema" -}}
CREATE SCHEMA IF NOT EXISTS model_cache;
{{- else if eq .Step "rebuild" -}}
CREATE OR REPLACE TABLE model_cache.col_names AS SELECT * FROM col_names_upd ORDER BY customer_id;
CREATE OR REPLACE TABLE model_cache.col_similar AS SELECT * FROM col_similar_upd;
CREATE OR REPLACE TABLE model_cache.col_matches AS SELECT * FROM col_matches_upd;
{{- else if eq .Step "update" -}}
DELETE FROM model_cache.col_names WHERE customer_id IN (SELECT customer_id FROM col_changed_customers);
INSERT INTO model_cache.col_names SELECT * FROM col_names_upd;
DELETE FROM model_cache.col_similar
WHERE key_a IN (SELECT name_key FROM col_changed_keys) OR key_b IN (SELECT name_key FROM col_changed_keys);
INSERT INTO model_cache.col_similar SELECT * FROM col_similar_upd;
DELETE FROM model_cache.col_matches WHERE opportunity_id IN (SELECT opportunity_id FROM col_affected);
INSERT INTO model_cache.col_matches SELECT * FROM col_matches_upd;
{{- else if eq .Step "state" -}}
CREATE OR REPLACE TABLE model_cache.collision_state AS
SELECT CAST({{.LoadID}} AS BIGINT) AS load_id, '{{.Fingerprint}}' AS fingerprint;
{{- end}}
