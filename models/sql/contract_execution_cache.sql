-- The per-contract cache of ce_installments (models/contract_execution.go,
-- installmentsCache; models/cache.go): model_cache.ce_installments holds
-- every installment of every contract with the running sums of its plan and
-- payments. A payment moved to another contract changes both: the one it
-- left comes from the facts' log of moved payments (facts.payment_changes,
-- facts.sql). No row depends on as_of when as_of is on or after every
-- payment and signature (the default as-of date always is): what is due by
-- as_of is decided after, in ce_alloc. Fully paid contracts stay as they are
-- until a load touches them.
{{if eq .Step "valid" -}}
SELECT coalesce(getvariable('as_of') >= (SELECT max(d) FROM (
    SELECT max(paid_on) AS d FROM live.payments
    UNION ALL SELECT max(signed_on) FROM live.contracts)), true);
{{- else if eq .Step "keys" -}}
-- the contracts whose row, plan or payments a load after the cache's wrote
-- (deleted rows too), and those a changed payment belonged to before
CREATE OR REPLACE TEMP TABLE ce_installments_keys AS
SELECT contract_id FROM main.contracts WHERE _load_id > {{.Since}}
UNION SELECT contract_id FROM main.payment_schedule WHERE _load_id > {{.Since}}
UNION SELECT contract_id FROM main.payments WHERE _load_id > {{.Since}} AND contract_id IS NOT NULL
UNION SELECT contract_id FROM facts.payment_changes WHERE load_id > {{.Since}} AND contract_id IS NOT NULL;
{{- else if eq .Step "contracts" -}}
CREATE OR REPLACE TEMP TABLE ce_cx_contracts AS
SELECT * FROM ce_contracts{{if not .All}} WHERE contract_id IN (SELECT contract_id FROM ce_installments_keys){{end}};
{{- if .All}}
-- the map of every payment's contract that older versions kept beside the
-- installments (22 M rows on the large company): nothing reads it now
DROP TABLE IF EXISTS model_cache.ce_payment_contracts;
{{- end}}
{{- else if eq .Step "read" -}}
-- a view (the model reads it once, in ce_alloc); contract_execution.go
-- drops it when the model ends
DROP TABLE IF EXISTS ce_cx_contracts;
DROP TABLE IF EXISTS ce_installments;
CREATE OR REPLACE TEMP VIEW ce_installments AS SELECT * FROM cached_ce_installments;
{{- end}}
