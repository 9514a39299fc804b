-- What the dashboards need to know about the warehouse, read once per data
-- version: the as-of date (the latest day with activity, as in the models),
-- the last load and refresh, which tables exist, display currencies, product
-- lines and the roots of the org tree.
SELECT 'as_of' AS kind, NULL AS name, (
    SELECT max(d) FROM (
        SELECT max(paid_on) AS d FROM live.payments
        UNION ALL SELECT max(signed_on) FROM live.contracts
        UNION ALL SELECT max(closed_on) FROM live.opportunities
        UNION ALL SELECT CAST(max(created_at) AS DATE) FROM live.opportunities
        UNION ALL SELECT CAST(max(entered_at) AS DATE) FROM live.opportunity_stages
        UNION ALL SELECT CAST(max(occurred_at) AS DATE) FROM live.activities
        UNION ALL SELECT max(incurred_on) FROM live.expenses
    )) AS d, CAST(NULL AS TIMESTAMPTZ) AS t, CAST(NULL AS BIGINT) AS n, CAST(NULL AS DOUBLE) AS x
UNION ALL
SELECT 'load', NULL, NULL, max(finished_at), max(load_id), NULL FROM main.load_runs WHERE status = 'committed'
UNION ALL
SELECT 'refresh', NULL, max(as_of), max(finished_at), max(refresh_id), NULL
FROM main.model_runs WHERE refresh_id = (SELECT max(refresh_id) FROM main.model_runs WHERE status <> 'failed')
UNION ALL
SELECT 'object', table_name, NULL, NULL, NULL, NULL FROM duckdb_tables() WHERE schema_name = 'main'
UNION ALL
SELECT 'object', view_name, NULL, NULL, NULL, NULL FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal
UNION ALL
SELECT 'object', function_name, NULL, NULL, NULL, NULL FROM duckdb_functions() WHERE function_type = 'table_macro' AND schema_name = 'main'
UNION ALL
SELECT 'object', schema_name || '.' || function_name, NULL, NULL, NULL, NULL FROM duckdb_functions() WHERE schema_name IN ('scoped', 'facts')
UNION ALL
SELECT 'object', schema_name || '.' || table_name, NULL, NULL, NULL, NULL FROM duckdb_tables() WHERE schema_name = 'facts'
UNION ALL
SELECT 'rate', currency, NULL, NULL, NULL, CAST(arg_max(rate_to_base, on_date) AS DOUBLE)
FROM live.fx_rates WHERE currency <> $base GROUP BY currency
UNION ALL
SELECT DISTINCT 'line', product_line, NULL, NULL, NULL, NULL FROM live.products WHERE product_line IS NOT NULL
UNION ALL
SELECT 'root', org_unit_id, NULL, NULL, NULL, NULL FROM live.org_units WHERE parent_id IS NULL
