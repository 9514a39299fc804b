-- CLV model, step 1: the (empty) result table, so that mart_clv exists with its
-- columns even when there is nothing to forecast. Trusted splices: the time
-- unit and the horizon, from models.clv.* settings.

CREATE OR REPLACE TABLE mart_clv (
    customer_id        VARCHAR NOT NULL,
    frequency          BIGINT NOT NULL,
    recency            DOUBLE NOT NULL,
    t                  DOUBLE NOT NULL,
    p_alive            DOUBLE,
    expected_purchases DOUBLE,
    expected_avg_value DOUBLE,
    clv                DOUBLE,
    as_of              DATE NOT NULL
);

COMMENT ON TABLE mart_clv IS 'Customer lifetime value per customer with at least one purchase up to as_of: BG/NBD (purchase days, P(alive)) and Gamma-Gamma (value per purchase day). A purchase is a payment with amount >= 0; a customer''s purchases on one day are one transaction whose value is the sum of that day''s non-negative payments (refunds are neither purchases nor subtracted from spend). Parameters in model_fits (bgnbd, gamma_gamma). Times are in {{.Unit}}s.';

COMMENT ON COLUMN mart_clv.frequency IS 'x: number of repeat purchase days (purchase days - 1) up to as_of.';

COMMENT ON COLUMN mart_clv.recency IS 't_x: last purchase day - first purchase day, in {{.Unit}}s.';

COMMENT ON COLUMN mart_clv.t IS 'T: as_of - first purchase day, in {{.Unit}}s.';

COMMENT ON COLUMN mart_clv.p_alive IS 'BG/NBD probability that the customer is still active at as_of.';

COMMENT ON COLUMN mart_clv.expected_purchases IS 'BG/NBD expected number of purchase days in the {{.HorizonMonths}} months after as_of.';

COMMENT ON COLUMN mart_clv.expected_avg_value IS 'Gamma-Gamma expected value of a purchase day, E(Z | x, zbar), base currency; for x = 0 the population mean p*gamma/(q-1). NULL if the spend model could not be fitted.';

COMMENT ON COLUMN mart_clv.clv IS 'Sum over the {{.HorizonMonths}} months after as_of of expected_avg_value * expected purchase days in month k / (1 + {{.Discount}})^k, base currency.';
