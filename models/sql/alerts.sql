-- Alerts at as_of. One row per thing to look at; see the COMMENTs for the
-- rule of each kind. {{.Forecast}} says whether mart_forecast and
-- mart_targets_monthly exist (the forecast and targets models ran). Besides
-- prep.sql's and pipeline_prep.sql's tables it reads customer_payments_cache.sql's.
-- Thresholds and severities are the settings models.alerts.* (alerts.go),
-- read here as session variables getvariable('alert_…').
-- Who is responsible: a customer's alert goes to the customer's owner (the
-- facts' owner_rep_id and owner_org of facts.customers: the customer's unit,
-- else its owner rep's); a contract's and a deal's to the rep the contract or
-- deal names and that rep's unit (rep_id, rep_org of the facts; the deal's
-- as in every pipeline model, pipeline_prep.sql), NULL when it names none.

-- purchases_down: net payments (refunds lower them) per customer in the last
-- four complete months m0-3 .. m0 fell three times running.
CREATE OR REPLACE TEMP TABLE pl_alert_purchases AS
WITH m AS (
    SELECT CAST(date_trunc('month', getvariable('as_of') + 1) AS DATE) - INTERVAL 1 MONTH AS m0
),
months AS (
    SELECT CAST(m0 - to_months(k) AS DATE) AS month, 3 - k AS i FROM m, range(0, 4) r(k)
),
monthly AS (
    SELECT p.customer_id, CAST(date_trunc('month', p.paid_on) AS DATE) AS month, sum(p.amount_base) AS amount
    FROM base_payments p
    WHERE p.paid_on >= (SELECT min(month) FROM months)
    GROUP BY ALL
),
grid AS (
    SELECT c.customer_id, mo.month, mo.i, coalesce(x.amount, 0) AS amount
    FROM (SELECT DISTINCT customer_id FROM monthly) c
    CROSS JOIN months mo
    LEFT JOIN monthly x ON x.customer_id = c.customer_id AND x.month = mo.month
),
w AS (
    SELECT customer_id,
           max(amount) FILTER (WHERE i = 0) AS a0, max(amount) FILTER (WHERE i = 1) AS a1,
           max(amount) FILTER (WHERE i = 2) AS a2, max(amount) FILTER (WHERE i = 3) AS a3,
           min(month) AS first_month
    FROM grid GROUP BY customer_id
)
SELECT w.*, cu.owner_org, cu.owner_rep_id
FROM w LEFT JOIN facts.customers cu USING (customer_id)
WHERE a0 > a1 AND a1 > a2 AND a2 > a3;

-- Settlement plan lines with what is still outstanding: the payments received
-- on a contract up to as_of settle its plan lines in due-date order (base
-- currency: the plan is in the contract currency, converted at the contract's
-- rate). Contracts cancelled or terminated are left out.
CREATE OR REPLACE TEMP TABLE pl_alert_schedule AS
WITH lines AS (
    -- Lines due after as_of + due_days are left out: they raise no alert, and a
    -- running sum in due-date order never includes a later line.
    -- (rate 1, nearly every contract, skips the wide decimal product: DuckDB
    -- rounds a 128-bit decimal back to cents slowly)
    SELECT s.contract_id, s.due_on,
           CASE WHEN c.rate_to_base = 1 THEN s.amount ELSE CAST(CAST(s.amount AS DECIMAL(38,2)) * c.rate_to_base AS DECIMAL(18,2)) END AS amount,
           c.customer_id, c.rep_id AS owner_rep_id, c.rep_org
    FROM live.payment_schedule s
    JOIN base_contracts c USING (contract_id)
    WHERE coalesce(c.status, 'active') NOT IN ('cancelled', 'terminated')
      AND s.due_on <= getvariable('as_of') + CAST(getvariable('alert_due_days') AS INTEGER)
),
paid AS (
    -- customer_payments_cache.sql's sums per customer and contract, regrouped
    SELECT contract_id, sum(amount) AS paid FROM base_payment_sums WHERE contract_id IS NOT NULL GROUP BY ALL
),
uncovered AS (
    -- Contracts whose payments do not cover all these lines. In the others
    -- every running sum is at most the payments (no line is negative), so
    -- nothing is outstanding; most contracts are paid up, and the running
    -- sum below is then over a fraction of the schedule.
    SELECT l.contract_id
    FROM lines l LEFT JOIN paid USING (contract_id)
    GROUP BY l.contract_id
    HAVING sum(l.amount) > coalesce(any_value(paid.paid), 0) OR min(l.amount) < 0
),
plan AS (
    SELECT l.contract_id, l.due_on, l.amount,
           sum(l.amount) OVER (PARTITION BY l.contract_id ORDER BY l.due_on) AS cum_due,
           l.customer_id, l.owner_rep_id, l.rep_org
    FROM lines l SEMI JOIN uncovered u ON u.contract_id = l.contract_id
)
SELECT plan.*, coalesce(paid.paid, 0) AS paid,
       least(plan.amount, greatest(0, plan.cum_due - coalesce(paid.paid, 0))) AS outstanding
FROM plan LEFT JOIN paid USING (contract_id);

-- Open deals in their current stage, against the median days of that stage
-- (the funnel's days_median for the company: every deal's days in the stage,
-- open stays counted until as_of).
CREATE OR REPLACE TEMP TABLE pl_alert_stalled AS
WITH med AS (
    SELECT stage, quantile_cont(days, 0.5) AS median_days
    FROM pl_deal_stages WHERE NOT is_closed AND days IS NOT NULL GROUP BY stage
),
cur AS (
    SELECT v.opportunity_id, v.stage, v.current_entered_on AS entered_on, v.current_days AS days
    FROM pl_deal_stages v JOIN pl_deals d USING (opportunity_id)
    WHERE v.is_current AND NOT v.is_closed AND d.status = 'open'
)
SELECT cur.*, med.median_days, d.owner_rep_id, d.rep_org_unit_id, d.amount_base
FROM cur JOIN med USING (stage) JOIN pl_deals d USING (opportunity_id)
WHERE cur.days > getvariable('alert_stalled_factor') * greatest(med.median_days, 1);

CREATE OR REPLACE TABLE mart_alerts AS
WITH a AS (
    SELECT 'purchases_down' AS kind,
           CASE WHEN a3 <= getvariable('alert_purchases_high_share') * a0 THEN 'high' ELSE 'medium' END AS severity,
           'customer' AS subject_type, customer_id AS subject_id,
           owner_org AS org_unit_id,
           owner_rep_id,
           printf('monthly purchases %s to %s: %.2f → %.2f → %.2f → %.2f', strftime(first_month, '%Y-%m'),
                  strftime(CAST(first_month + INTERVAL 3 MONTH AS DATE), '%Y-%m'),
                  CAST(a0 AS DOUBLE), CAST(a1 AS DOUBLE), CAST(a2 AS DOUBLE), CAST(a3 AS DOUBLE)) AS detail,
           CAST(first_month + INTERVAL 1 MONTH AS DATE) AS since,
           12 * (a0 - a3) AS amount_at_risk   -- a year of purchases at the fallen rate
    FROM pl_alert_purchases
    UNION ALL
    SELECT CASE WHEN s.due_on < getvariable('as_of') THEN 'settlement_overdue' ELSE 'settlement_due' END,
           CASE WHEN s.due_on < getvariable('as_of') - CAST(getvariable('alert_overdue_high_days') AS INTEGER) THEN 'high' ELSE 'medium' END,
           'contract', s.contract_id, s.rep_org, s.owner_rep_id,
           CASE WHEN s.due_on < getvariable('as_of')
                THEN printf('due %s, %d days overdue: %.2f outstanding of %.2f', CAST(s.due_on AS VARCHAR), date_diff('day', s.due_on, getvariable('as_of')), CAST(s.outstanding AS DOUBLE), CAST(s.amount AS DOUBLE))
                ELSE printf('due %s, in %d days: %.2f outstanding of %.2f', CAST(s.due_on AS VARCHAR), date_diff('day', getvariable('as_of'), s.due_on), CAST(s.outstanding AS DOUBLE), CAST(s.amount AS DOUBLE)) END,
           s.due_on,
           s.outstanding   -- what is not paid of the instalment
    FROM pl_alert_schedule s
    WHERE s.outstanding > 0.005 AND s.due_on <= getvariable('as_of') + CAST(getvariable('alert_due_days') AS INTEGER)
    UNION ALL
    SELECT 'contract_ending', 'low', 'contract', c.contract_id, c.rep_org, c.rep_id,
           printf('ends %s, in %d days (amount %.2f)', CAST(c.end_on AS VARCHAR), date_diff('day', getvariable('as_of'), c.end_on), CAST(c.amount_base AS DOUBLE)),
           c.end_on,
           c.amount_base   -- the contract to renew
    FROM base_contracts c
    WHERE coalesce(c.status, 'active') = 'active'
      AND c.end_on BETWEEN getvariable('as_of') AND getvariable('as_of') + CAST(getvariable('alert_ending_days') AS INTEGER)
    UNION ALL
    SELECT 'stalled_deal', CASE WHEN days > getvariable('alert_stalled_high_factor') * greatest(median_days, 1) THEN 'high' ELSE 'medium' END,
           'opportunity', opportunity_id, rep_org_unit_id, owner_rep_id,
           printf('in %s for %d days; the median is %.1f days', stage, days, CAST(median_days AS DOUBLE)),
           entered_on,
           amount_base   -- the deal's amount
    FROM pl_alert_stalled
{{- if .Forecast}}
    UNION ALL
    SELECT 'forecast_below_target', CASE WHEN f.amount < getvariable('alert_forecast_high_share') * t.target THEN 'high' ELSE 'medium' END,
           'org_unit', f.org_unit_id, f.org_unit_id, NULL,
           printf('forecast for %s (blend) %.2f vs target %.2f: %.0f%%', f.month, CAST(f.amount AS DOUBLE), CAST(t.target AS DOUBLE), 100 * CAST(f.amount AS DOUBLE) / CAST(t.target AS DOUBLE)),
           CAST(strptime(f.month, '%Y-%m') AS DATE),
           t.target - f.amount   -- the gap to the target
    FROM mart_forecast f
    JOIN mart_targets_monthly t ON t.scope <> 'rep' AND t.scope_id = f.org_unit_id AND t.month = f.month AND t.metric = 'bookings'
    WHERE f.method = 'blend' AND f.as_of = getvariable('as_of') AND f.amount < t.target
{{- end}}
)
SELECT kind,
       coalesce(map_extract(getvariable('alert_severities'), kind)[1],
                CASE WHEN getvariable('alert_high_amount') > 0 AND amount_at_risk >= getvariable('alert_high_amount') THEN 'high' ELSE severity END) AS severity,
       subject_type, subject_id, org_unit_id, owner_rep_id, detail, since, getvariable('as_of') AS as_of,
       CAST(round(greatest(coalesce(amount_at_risk, 0), 0), 2) AS DECIMAL(18,2)) AS amount_at_risk
FROM a
WHERE coalesce(amount_at_risk, 0) >= getvariable('alert_min_amount')
ORDER BY array_position(['high', 'medium', 'low'], severity), kind, since, subject_id;
COMMENT ON TABLE mart_alerts IS 'What needs attention at as_of, with the money at risk the pages rank by. Thresholds and severities are the settings models.alerts.* (defaults named here; severities: a fixed severity per kind; high_amount: high from that money at risk; min_amount: less is left out). kind: purchases_down (a customer''s net payments fell in each of the last three complete months; high when the last month is at most half of three months before), settlement_due (a settlement plan line due within 7 days and not yet covered by payments, plan lines settled in due-date order), settlement_overdue (past due and not covered; high after 30 days), contract_ending (an active contract ends within 30 days), stalled_deal (an open deal in its stage for more than twice the median days of that stage; high beyond 4 times), forecast_below_target (the blend forecast of a month is below the bookings target of the unit; high below 80 %).';
COMMENT ON COLUMN mart_alerts.severity IS 'high, medium or low.';
COMMENT ON COLUMN mart_alerts.subject_type IS 'customer, contract, opportunity or org_unit; subject_id is its key.';
COMMENT ON COLUMN mart_alerts.org_unit_id IS 'The org unit responsible (the customer''s, else the owner rep''s), for data scopes.';
COMMENT ON COLUMN mart_alerts.amount_at_risk IS 'Money at risk (base currency), what the pages rank alerts by: purchases_down 12 × (first month − last month), a year of purchases at the fallen rate; settlements the unpaid part of the instalment; contract_ending the contract amount (the renewal); stalled_deal the deal amount; forecast_below_target the target less the forecast.';
COMMENT ON COLUMN mart_alerts.since IS 'purchases_down: the first month of the fall; settlements: the due date; contract_ending: the end date; stalled_deal: the day the deal entered its stage; forecast_below_target: the month.';
