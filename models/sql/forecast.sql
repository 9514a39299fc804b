-- Forecast and backtest accuracy, computed in forecast.go (pl_fc_out,
-- pl_fc_acc), materialised with comments.

CREATE OR REPLACE TABLE mart_forecast AS
SELECT org_unit_id, month, method,
       CAST(round(amount, 2) AS DECIMAL(18,2)) AS amount,
       CAST(round(low, 2) AS DECIMAL(18,2)) AS low,
       CAST(round(high, 2) AS DECIMAL(18,2)) AS high,
       horizon_months,
       getvariable('as_of') AS as_of
FROM pl_fc_out
ORDER BY org_unit_id, month, array_position(['weighted_pipeline', 'stage_age', 'holt_winters', 'blend'], method);
COMMENT ON TABLE mart_forecast IS 'Bookings forecast (amount of deals won, by month of closed_on, base currency) for the months after the as-of month, per org unit (all = the company), by method: weighted_pipeline, stage_age, holt_winters and blend (weighted by 1 / backtest WAPE of the same horizon and org level). low and high bound a ~95 % interval.';
COMMENT ON COLUMN mart_forecast.month IS 'The forecast month, YYYY-MM.';
COMMENT ON COLUMN mart_forecast.method IS 'weighted_pipeline: open deals × stage default probability in their expected close month. stage_age: open deals × the historical share of amount won h months later from the same stage and age class, plus the average new business. holt_winters: exponential smoothing of monthly bookings. blend: the three weighted by the 0.1-grid weights that minimise the blend''s backtest WAPE per horizon and org level.';
COMMENT ON COLUMN mart_forecast.horizon_months IS 'Months after the as-of month (1 = the next month).';

CREATE OR REPLACE TABLE mart_forecast_accuracy AS
SELECT method, horizon_months, org_level, wape, bias, n_points, getvariable('as_of') AS as_of
FROM pl_fc_acc
ORDER BY array_position(['weighted_pipeline', 'stage_age', 'holt_winters', 'blend'], method), horizon_months, org_level;
COMMENT ON TABLE mart_forecast_accuracy IS 'Backtest of each forecast method: re-run as of past month ends (the pipeline rebuilt with pipeline_at, only data known then) and compared with the bookings that followed. The blend is scored with the weights of this very backtest (in-sample).';
COMMENT ON COLUMN mart_forecast_accuracy.org_level IS 'all (the company as a whole) or the org level (company, region, branch, department) whose units were pooled.';
COMMENT ON COLUMN mart_forecast_accuracy.wape IS 'Weighted absolute percentage error: sum |forecast − actual| / sum |actual|.';
COMMENT ON COLUMN mart_forecast_accuracy.bias IS 'sum (forecast − actual) / sum |actual|: above 0 the method over-forecasts.';
COMMENT ON COLUMN mart_forecast_accuracy.n_points IS 'Forecasts compared (backtest dates × units).';

-- The open pipeline at each of the 12 month ends before the as-of month and
-- at as_of (the snapshots of forecast_snapshots.sql: what pipeline_at returns
-- on those days), expected to close in the 3 months after the day: the
-- Telescope's forecast trend (query/charts/sql/telescope_trend.sql) reads it
-- instead of rebuilding 13 pipelines from the stage history per view.
CREATE OR REPLACE TABLE mart_pipeline_trend AS
SELECT t AS made_on, owner_rep_id, org_unit_id, product_line,
       CAST(round(pipeline, 2) AS DECIMAL(18,2)) AS pipeline, CAST(round(weighted, 2) AS DECIMAL(18,2)) AS weighted,
       deals, getvariable('as_of') AS as_of
FROM pl_fc_trend
WHERE t = getvariable('as_of')
   OR (t >= last_day(date_trunc('month', getvariable('as_of')) - INTERVAL 12 MONTH)
       AND t < date_trunc('month', getvariable('as_of')) AND t = last_day(t))
ORDER BY ALL;
COMMENT ON TABLE mart_pipeline_trend IS 'How the pipeline stood: at each of the 12 month ends before the as-of month and at as_of (made_on), the deals then open (as pipeline_at(made_on) returns them) and expected to close in the 3 months after made_on, summed per rep, the rep''s unit and product line. Amounts are the deals'' current ones (base currency): no amount history is kept.';
COMMENT ON COLUMN mart_pipeline_trend.owner_rep_id IS 'The deal''s rep (NULL when the deal names none: those count for the company only).';
COMMENT ON COLUMN mart_pipeline_trend.org_unit_id IS 'The rep''s org unit.';
COMMENT ON COLUMN mart_pipeline_trend.pipeline IS 'Sum of amount of those deals.';
COMMENT ON COLUMN mart_pipeline_trend.weighted IS 'Sum of amount × the default probability (percent / 100) of the stage each deal was in on made_on; a stage without one counts 0.';
COMMENT ON COLUMN mart_pipeline_trend.deals IS 'How many deals.';
