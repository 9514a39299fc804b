-- The snapshots of forecast_snapshots.sql summed to what the forecast's
-- methods use, so that tens of millions of open-deal rows (the large company:
-- ~400,000 open deals at each of 40 dates) become a few thousand per date.
-- Amounts are summed as decimals: exact, so the same in every run whatever
-- order the rows are added in, and the same whether a date's sums were added
-- up at once or kept across refreshes with the deals a load changed taken
-- out (sign -1: their snapshots as the cache held them) and put back in
-- (sign 1: as they are now): models/forecast.go, cachedSums.
-- .Step: part (.Into: the sums of the snapshot views .Sources, each with its
-- sign), final (pl_fc_sums and the two tables the forecast reads, from the
-- parts .Parts).

{{if eq .Step "part" -}}
-- Both sums come from one pass over the snapshots (two grouping sets), so the
-- ~14 M snapshot rows of a large company are never stored: the snapshots are
-- views.
--
-- Weighted pipeline: per date, owner unit, stage probability and expected
-- close month (month index year × 12 + month − 1); a deal with no expected
-- close keeps its creation day (the forecast places it at created + the
-- median cycle as of the date). Deals whose stage has no probability are left
-- out.
-- Stage and age: per date, owner unit, stage and age class, and the month
-- after the date in which the deal was won (1 … {{.Months}}; 0 when it was not
-- won in that span).
{{.Into}}
WITH x AS (
{{- range $i, $s := .Sources}}
    {{if $i}}UNION ALL
    {{end}}SELECT {{$s.Sign}} AS sign, s.t, s.leaf, s.probability,
           year(s.expected_close_on) * 12 + month(s.expected_close_on) - 1 AS expected_month,
           CASE WHEN s.expected_close_on IS NULL THEN s.created_on END AS created_on,
           coalesce(s.stage, '') AS stage,
           CASE {{range $j, $b := $.AgeBuckets}}WHEN s.age_days <= {{$b}} THEN {{$j}} {{end}}ELSE {{len $.AgeBuckets}} END AS age_class,
           CASE WHEN s.won_month - (year(s.t) * 12 + month(s.t) - 1) BETWEEN 1 AND {{$.Months}}
                THEN s.won_month - (year(s.t) * 12 + month(s.t) - 1) ELSE 0 END AS won_after_months,
           coalesce(s.amount_base, 0) AS amount_base,
           -- the pipeline trend: the deals expected to close in the 3 months
           -- after the date (telescope_trend.sql) by rep and product line
           -- ('' for none); the others all in one group per date (NULL),
           -- which costs far less than a group per rep and line for every
           -- deal (the large company's full refresh: these sums took
           -- 15.7-16.2 s without the trend, 20.7-21.6 s with a group per
           -- unit, rep, line and window flag, 16.7-17.7 s so)
           CASE WHEN s.in_trend THEN coalesce(s.owner_rep_id, '') END AS rep,
           CASE WHEN s.in_trend THEN coalesce(s.product_line, '') END AS product_line,
           CASE WHEN s.in_trend THEN coalesce(s.amount_base, 0) * coalesce(s.default_probability, 0) END AS amount_weighted
    FROM (SELECT *, expected_close_on > t AND expected_close_on <= last_day(t + INTERVAL 3 MONTH) AS in_trend FROM {{$s.View}}) s
{{- end}}
)
SELECT grouping(stage) = 1 AND grouping(rep) = 1 AS is_weighted, grouping(rep) = 0 AS is_trend,
       t, leaf, probability, expected_month, created_on, stage, age_class, won_after_months,
       rep, product_line,
       sum(CASE WHEN sign > 0 THEN amount_base ELSE -amount_base END) AS amount,
       sum(CASE WHEN sign > 0 THEN CAST(amount_base AS DECIMAL(38, 2)) * amount_base
                ELSE -(CAST(amount_base AS DECIMAL(38, 2)) * amount_base) END) AS amount_squared,
       sum(CASE WHEN sign > 0 THEN amount_weighted ELSE -amount_weighted END) AS amount_weighted,
       CAST(sum(sign) AS BIGINT) AS deals
FROM x
GROUP BY GROUPING SETS ((t, leaf, probability, expected_month, created_on),
                        (t, leaf, stage, age_class, won_after_months),
                        -- the pipeline trend (mart_pipeline_trend): per
                        -- date, rep and product line (a rep's unit is the
                        -- one the cache has: a rep moving recomputes the
                        -- rep's deals)
                        (t, rep, product_line));
{{- else if eq .Step "final" -}}
-- a group whose every deal was taken out is gone
CREATE OR REPLACE TEMP TABLE pl_fc_sums AS
SELECT is_weighted, is_trend, t, leaf, probability, expected_month, created_on, stage, age_class, won_after_months,
       rep, product_line,
       CAST(sum(amount) AS DOUBLE) AS amount, CAST(sum(amount_squared) AS DOUBLE) AS amount_squared,
       sum(amount_weighted) AS amount_weighted,
       CAST(sum(deals) AS BIGINT) AS deals
FROM ({{.Parts}})
GROUP BY ALL
HAVING sum(deals) <> 0;

CREATE OR REPLACE TEMP TABLE pl_fc_weighted AS
SELECT t, leaf, probability, expected_month, created_on, amount, amount_squared
FROM pl_fc_sums WHERE is_weighted AND probability IS NOT NULL;

CREATE OR REPLACE TEMP TABLE pl_fc_stage_age AS
SELECT t, leaf, stage, age_class, won_after_months, amount, amount_squared, deals
FROM pl_fc_sums WHERE NOT is_weighted AND NOT is_trend;

-- the pipeline trend's sums (forecast.sql keeps the trend's dates in
-- mart_pipeline_trend)
CREATE OR REPLACE TEMP TABLE pl_fc_trend AS
SELECT s.t, nullif(s.rep, '') AS owner_rep_id, r.org_unit_id, nullif(s.product_line, '') AS product_line,
       s.amount AS pipeline, CAST(s.amount_weighted / 100 AS DOUBLE) AS weighted, s.deals
FROM pl_fc_sums s LEFT JOIN live.reps r ON r.rep_id = s.rep
WHERE s.is_trend AND s.rep IS NOT NULL;
{{- end}}
