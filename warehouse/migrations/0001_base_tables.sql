-- 0001: the analyst-facing base tables, one per entity of the data contract.
-- Keys are enforced by the loader (deduplicate in staging, then delete+insert by key)
-- rather than by PRIMARY KEY indexes: DuckDB's ART indexes slow bulk loads and hold
-- memory, and ON CONFLICT silently keeps the first of two rows with one key.
-- Every table carries _load_id: the load_runs.load_id that last wrote the row.

CREATE TABLE org_units (
    org_unit_id VARCHAR NOT NULL,
    parent_id   VARCHAR,
    name        VARCHAR NOT NULL,
    level       VARCHAR NOT NULL,
    _load_id    BIGINT
);
COMMENT ON TABLE org_units IS 'The sales organisation as a tree: company > region > branch > department. Key: org_unit_id.';
COMMENT ON COLUMN org_units.parent_id IS 'org_unit_id of the parent unit; NULL for the company (root).';
COMMENT ON COLUMN org_units.level IS 'One of company, region, branch, department.';

CREATE TABLE reps (
    rep_id         VARCHAR NOT NULL,
    name           VARCHAR NOT NULL,
    org_unit_id    VARCHAR NOT NULL,
    manager_rep_id VARCHAR,
    hired_on       DATE,
    left_on        DATE,
    _load_id       BIGINT
);
COMMENT ON TABLE reps IS 'Sales representatives and their managers. Key: rep_id.';
COMMENT ON COLUMN reps.org_unit_id IS 'The org unit (usually a department) the rep belongs to.';
COMMENT ON COLUMN reps.manager_rep_id IS 'rep_id of the direct manager; NULL at the top.';
COMMENT ON COLUMN reps.left_on IS 'Date the rep left; NULL while employed.';

CREATE TABLE customers (
    customer_id     VARCHAR NOT NULL,
    name            VARCHAR NOT NULL,
    industry        VARCHAR,
    size_band       VARCHAR,
    org_unit_id     VARCHAR,
    city            VARCHAR,
    created_at      TIMESTAMPTZ,
    owner_rep_id    VARCHAR,
    source          VARCHAR,
    lifecycle_stage VARCHAR,
    _load_id        BIGINT
);
COMMENT ON TABLE customers IS 'Customer accounts. Key: customer_id.';
COMMENT ON COLUMN customers.size_band IS 'Company size band: micro, small, medium, large, enterprise.';
COMMENT ON COLUMN customers.org_unit_id IS 'The org unit responsible for the customer.';
COMMENT ON COLUMN customers.owner_rep_id IS 'The rep who owns the account.';
COMMENT ON COLUMN customers.source IS 'How the customer was acquired (referral, campaign, partner, inbound, outbound, exhibition).';
COMMENT ON COLUMN customers.lifecycle_stage IS 'Optional: target, potential, opportunity, transaction, service.';

CREATE TABLE opportunities (
    opportunity_id    VARCHAR NOT NULL,
    customer_id       VARCHAR NOT NULL,
    owner_rep_id      VARCHAR,
    partner_id        VARCHAR,
    product_id        VARCHAR,
    amount            DECIMAL(18,2),
    currency          VARCHAR,
    stage             VARCHAR,
    probability       DECIMAL(5,2),
    source            VARCHAR,
    campaign_id       VARCHAR,
    created_at        TIMESTAMPTZ NOT NULL,
    expected_close_on DATE,
    closed_on         DATE,
    status            VARCHAR NOT NULL,
    close_reason      VARCHAR,
    competitor        VARCHAR,
    updated_at        TIMESTAMPTZ,
    _load_id          BIGINT
);
COMMENT ON TABLE opportunities IS 'Sales opportunities (deals), their current stage and outcome. Key: opportunity_id.';
COMMENT ON COLUMN opportunities.amount IS 'Expected (open) or final (won/lost) deal value in currency.';
COMMENT ON COLUMN opportunities.probability IS 'Win probability in percent, 0 to 100.';
COMMENT ON COLUMN opportunities.partner_id IS 'Channel partner (agent, distributor, reseller) that registered or carries the deal; NULL for direct.';
COMMENT ON COLUMN opportunities.status IS 'open, won or lost.';
COMMENT ON COLUMN opportunities.close_reason IS 'Why the deal was won or lost.';
COMMENT ON COLUMN opportunities.competitor IS 'Main competitor on the deal.';

CREATE TABLE opportunity_stages (
    opportunity_id VARCHAR NOT NULL,
    stage          VARCHAR NOT NULL,
    entered_at     TIMESTAMPTZ NOT NULL,
    _load_id       BIGINT
);
COMMENT ON TABLE opportunity_stages IS 'Stage history: one row per stage an opportunity entered. Key: (opportunity_id, stage, entered_at).';

CREATE TABLE contracts (
    contract_id    VARCHAR NOT NULL,
    opportunity_id VARCHAR,
    customer_id    VARCHAR NOT NULL,
    owner_rep_id   VARCHAR,
    signed_on      DATE NOT NULL,
    start_on       DATE,
    end_on         DATE,
    amount         DECIMAL(18,2) NOT NULL,
    currency       VARCHAR,
    status         VARCHAR,
    _load_id       BIGINT
);
COMMENT ON TABLE contracts IS 'Signed contracts, usually from won opportunities. Key: contract_id.';
COMMENT ON COLUMN contracts.status IS 'active, completed, terminated or cancelled.';

CREATE TABLE payments (
    payment_id  VARCHAR NOT NULL,
    contract_id VARCHAR,
    customer_id VARCHAR NOT NULL,
    paid_on     DATE NOT NULL,
    amount      DECIMAL(18,2) NOT NULL,
    currency    VARCHAR,
    method      VARCHAR,
    _load_id    BIGINT
);
COMMENT ON TABLE payments IS 'Money received (collections). A negative amount is a refund. Key: payment_id.';
COMMENT ON COLUMN payments.method IS 'bank_transfer, acceptance_bill, cheque, cash, card, online.';

CREATE TABLE payment_schedule (
    contract_id VARCHAR NOT NULL,
    due_on      DATE NOT NULL,
    amount      DECIMAL(18,2) NOT NULL,
    _load_id    BIGINT
);
COMMENT ON TABLE payment_schedule IS 'Settlement plan of a contract: what is due when, in the contract currency. Key: (contract_id, due_on).';

CREATE TABLE contract_lines (
    contract_id VARCHAR NOT NULL,
    line_no     INTEGER NOT NULL,
    product_id  VARCHAR NOT NULL,
    quantity    DECIMAL(18,3) NOT NULL,
    unit_price  DECIMAL(18,2) NOT NULL,
    _load_id    BIGINT
);
COMMENT ON TABLE contract_lines IS 'Products sold on a contract. Key: (contract_id, line_no).';

CREATE TABLE products (
    product_id   VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    product_line VARCHAR,
    list_price   DECIMAL(18,2),
    unit_cost    DECIMAL(18,2),
    _load_id     BIGINT
);
COMMENT ON TABLE products IS 'Products with their line, list price and unit cost in the base currency. Key: product_id.';

CREATE TABLE partners (
    partner_id  VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    org_unit_id VARCHAR,
    _load_id    BIGINT
);
COMMENT ON TABLE partners IS 'Channel partners. Key: partner_id.';
COMMENT ON COLUMN partners.kind IS 'agent, distributor or reseller.';

CREATE TABLE expenses (
    expense_id     VARCHAR NOT NULL,
    customer_id    VARCHAR,
    opportunity_id VARCHAR,
    contract_id    VARCHAR,
    incurred_on    DATE NOT NULL,
    amount         DECIMAL(18,2) NOT NULL,
    currency       VARCHAR,
    category       VARCHAR,
    _load_id       BIGINT
);
COMMENT ON TABLE expenses IS 'Cost of selling and serving (travel, entertainment, presales, service). A negative amount is a credit note. Key: expense_id.';

CREATE TABLE activities (
    activity_id    VARCHAR NOT NULL,
    customer_id    VARCHAR,
    opportunity_id VARCHAR,
    rep_id         VARCHAR,
    kind           VARCHAR NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    campaign_id    VARCHAR,
    _load_id       BIGINT
);
COMMENT ON TABLE activities IS 'Sales activities and campaign responses. Key: activity_id.';
COMMENT ON COLUMN activities.kind IS 'visit, call, meeting, email or event.';

CREATE TABLE campaigns (
    campaign_id VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    channel     VARCHAR,
    started_on  DATE,
    ended_on    DATE,
    cost        DECIMAL(18,2),
    _load_id    BIGINT
);
COMMENT ON TABLE campaigns IS 'Marketing campaigns. Key: campaign_id.';

CREATE TABLE targets (
    scope        VARCHAR NOT NULL,
    scope_id     VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end   DATE NOT NULL,
    metric       VARCHAR NOT NULL,
    amount       DECIMAL(18,2) NOT NULL,
    _load_id     BIGINT
);
COMMENT ON TABLE targets IS 'Sales targets. Key: (scope, scope_id, period_start, metric) - metric is part of the key so bookings and collections targets can share a period.';
COMMENT ON COLUMN targets.scope IS 'company, region, branch, department (scope_id is an org_unit_id) or rep (scope_id is a rep_id).';
COMMENT ON COLUMN targets.metric IS 'bookings (signed contract value) or collections (payments received), base currency.';

CREATE TABLE fx_rates (
    currency    VARCHAR NOT NULL,
    on_date     DATE NOT NULL,
    rate_to_base DECIMAL(18,8) NOT NULL,
    _load_id    BIGINT
);
COMMENT ON TABLE fx_rates IS 'Exchange rates: 1 unit of currency = rate_to_base units of the base currency, from on_date. Key: (currency, on_date). The contract column "on" is named on_date here because ON is a reserved SQL word; the loader accepts "on".';

CREATE TABLE stages (
    stage               VARCHAR NOT NULL,
    position            INTEGER NOT NULL,
    default_probability DECIMAL(5,2),
    is_closed           BOOLEAN NOT NULL,
    _load_id            BIGINT
);
COMMENT ON TABLE stages IS 'The sales stages in order. Key: stage.';
COMMENT ON COLUMN stages.default_probability IS 'Win probability in percent for an opportunity in this stage.';
