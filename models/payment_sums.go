package models

import "context"

// paymentSums builds base_payment_sums (sql/payment_sums.sql: the payments
// summed per customer and contract) once per refresh, for the models that
// read it (customer_value, alerts), and keeps it until the refresh ends. The
// as-of date does not change within a refresh, and the refresh drops every
// temp table when it ends.
func paymentSums(ctx context.Context, rc *RunContext) error {
	if rc.keep[paymentSumsTable] {
		return nil
	}
	if err := rc.Exec(ctx, "payment_sums.sql", nil); err != nil {
		return err
	}
	if rc.keep == nil {
		rc.keep = map[string]bool{}
	}
	rc.keep[paymentSumsTable] = true
	return nil
}

const paymentSumsTable = "base_payment_sums"
