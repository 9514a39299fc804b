package models

import "context"

// paymentSums makes the payments' sums the customer models read (sql/
// customer_payments_cache.sql): base_payment_sums (the payments summed per
// customer and contract, with the first payment day: customer_value, alerts)
// and clv_days (each customer's purchase days: clv). Grouping the large
// company's 22 M payments by their text keys takes seconds; these are 2.3 M
// and 1.6 M rows, which the models regroup per customer or contract in a
// fraction of that (decimal sums regroup exactly). The first model of a
// refresh that reads them makes them — from the per-customer cache when it
// serves — and they are kept until the refresh ends: the as-of date does not
// change within a refresh, and the refresh drops every temp table when it
// ends.
func paymentSums(ctx context.Context, rc *RunContext) error {
	if rc.keep[paymentSumsTable] {
		rc.useCache(customerPaymentsCache.name, rc.caches[customerPaymentsCache.name])
		return nil
	}
	if _, err := customerPaymentsCache.refresh(ctx, rc); err != nil {
		return err
	}
	if rc.keep == nil {
		rc.keep = map[string]bool{}
	}
	rc.keep[paymentSumsTable] = true
	rc.keep["clv_days"] = true
	return nil
}

const paymentSumsTable = "base_payment_sums"

// customerPaymentsCache keeps the payments' sums per customer across
// refreshes (cache.go, customer_payments_cache.sql): a customer is
// recomputed when a load wrote one of its payments or moved one away from it
// (facts.payment_changes); fx rates changing rebuild all (amount_base
// converts through them).
var customerPaymentsCache = keyedCache{
	name: "customer_payments", key: "customer_id", unit: "customers", tables: []string{"payment_sums", "clv_days"},
	forcing: []string{"fx_rates"}, inputs: []string{"payments"}, paymentMoves: true,
	file: "customer_payments_cache.sql",
	compute: func(ctx context.Context, rc *RunContext, all bool) error {
		return rc.Exec(ctx, "customer_payments_cache.sql", map[string]any{"Step": "compute", "Into": "_new", "Keys": !all})
	},
	direct: func(ctx context.Context, rc *RunContext) error {
		return rc.Exec(ctx, "customer_payments_cache.sql", map[string]any{"Step": "compute", "Into": "", "Keys": false})
	},
}
