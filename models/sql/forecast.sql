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
