-- CLV model, step 3: one row per customer from its group's forecast (appended
-- by Go into clv_forecast) and the Gamma-Gamma expected spend
--   E(Z | x, zbar) = p (gamma + x zbar) / (p x + q - 1),  x zbar = repeat_value,
-- which for x = 0 is the population mean p gamma / (q - 1). When q <= 1 that
-- mean is infinite (spend varies so much between customers, as in B2B, that the
-- gamma mixing distribution has no mean): customers with x = 0 then get the
-- observed mean repeat-transaction value of all repeat customers instead.
-- Same formula as btyd.GammaGamma.ExpectedAvgValue otherwise.
-- clv = E(Z | x, zbar) * P(alive) * discounted expected purchase days (the
-- group's disc_purchases). Trusted splices: unit length and fitted parameters.
-- Not sorted: ORDER BY customer_id costs ~0.2 s per million customers.

INSERT INTO mart_clv
SELECT s.customer_id,
       s.x AS frequency,
       s.recency_days / CAST({{.UnitDays}} AS DOUBLE) AS recency,
       s.t_days / CAST({{.UnitDays}} AS DOUBLE) AS t,
       f.p_alive,
       f.expected_purchases,
       e.value AS expected_avg_value,
       e.value * f.disc_purchases AS clv,
       getvariable('as_of') AS as_of
FROM clv_summary s
JOIN clv_forecast f USING (x, recency_days, t_days),
LATERAL (
{{- if .HasGG}}
    SELECT CASE WHEN {{.P}} * s.x + {{.Q}} - 1 > 0
                THEN {{.P}} * ({{.Gamma}} + CAST(s.repeat_value AS DOUBLE)) / ({{.P}} * s.x + {{.Q}} - 1)
                ELSE (SELECT CAST(sum(repeat_value) AS DOUBLE) / sum(x) FROM clv_summary WHERE x > 0)
           END AS value
{{- else}}
    SELECT CAST(NULL AS DOUBLE) AS value
{{- end}}
) e;
