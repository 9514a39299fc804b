package etl

import (
	"context"
	"strings"
	"testing"
)

// The limits are options: a smaller text limit quarantines shorter values, a
// file over the size limit fails the load with a clear error.
func TestLimitOptions(t *testing.T) {
	w := openWarehouse(t)
	p := writeFile(t, "payments.csv", "payment_id,customer_id,paid_on,amount,method\nP1,C1,2024-05-01,1.00,cash\nP2,C1,2024-05-01,2.00,bank_transfer\n")
	rep, err := Load(context.Background(), w, []string{p}, Options{MaxTextBytes: 12, MaxRejectShare: 1})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Files[0]; f.Rejected != 1 || f.Rejects[0].Line != 3 || f.Rejects[0].Column != "method" || !strings.Contains(f.Rejects[0].Reason, "longer than the limit of 12 bytes") {
		t.Fatalf("%s", reportText(rep))
	}
	_, err = Load(context.Background(), w, []string{p}, Options{MaxFileBytes: 50})
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 50 bytes for one input") {
		t.Fatalf("err = %v", err)
	}
}
