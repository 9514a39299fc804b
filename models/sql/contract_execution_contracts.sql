-- contract_execution: the contracts signed on or before as_of, with what the
-- model needs of them (see contract_execution.sql).

CREATE OR REPLACE TEMP TABLE ce_contracts AS
SELECT c.contract_id, c.customer_id, c.rep_id AS owner_rep_id, c.rep_org, c.signed_on, c.start_on,
       c.amount, c.amount_base, c.rate_to_base,
       coalesce(c.currency, getvariable('base_currency')) AS currency,
       coalesce(c.status, 'active') AS contract_status
FROM base_contracts c;
