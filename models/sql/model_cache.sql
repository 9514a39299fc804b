-- The per-key caches of shared model inputs kept across refreshes in schema
-- model_cache (models/cache.go): for each cached table T, rows keyed by one
-- column (a deal, a contract) that do not depend on as_of, and T_state: the
-- load they reflect and a fingerprint of the definitions, time zone and base
-- currency they were computed with. A refresh recomputes the keys the loads
-- since wrote into temp T_new (keys in temp {{.Name}}_keys) and replaces
-- them here, rows and state in one transaction.
-- .Step: schema, replace, rebuild or state; .Table the cached table.
{{if eq .Step "schema" -}}
CREATE SCHEMA IF NOT EXISTS model_cache;
{{- else if eq .Step "replace" -}}
DELETE FROM model_cache.{{.Table}} WHERE {{.Key}} IN (SELECT {{.Key}} FROM {{.Name}}_keys);
INSERT INTO model_cache.{{.Table}} SELECT * FROM {{.Table}}_new;
{{- else if eq .Step "rebuild" -}}
CREATE OR REPLACE TABLE model_cache.{{.Table}} AS SELECT * FROM {{.Table}}_new;
{{- else if eq .Step "state" -}}
CREATE OR REPLACE TABLE model_cache.{{.Name}}_state AS
SELECT CAST({{.LoadID}} AS BIGINT) AS load_id, '{{.Fingerprint}}' AS fingerprint;
{{- end}}
