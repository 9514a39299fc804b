package etl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/etl/synth"
)

// TestXLSXLoadsAsCSV: the same payments as CSV, as GBK with Chinese headers
// and as a workbook written the way exports write them (inline strings, date cells as serials, amounts as
// number cells, Chinese headers and values) load to the same rows. It runs on a
// generated file, and on bench-load's payments (a million rows) where the
// bench data is present (TRISCOPE_BENCH_DIR, default ../bench-data/default-1).
func TestXLSXLoadsAsCSV(t *testing.T) {
	t.Run("generated", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "payments.csv")
		var b strings.Builder
		b.WriteString("payment_id,contract_id,customer_id,paid_on,amount,currency,method\n")
		methods := []string{"银行转账", "承兑汇票", "支票", "cash", "刷卡", "在线支付"}
		for i := range 5000 {
			amount := fmt.Sprintf("%d.%02d", i*37%250000, i%100)
			if i%97 == 0 {
				amount = "-" + amount // a refund
			}
			fmt.Fprintf(&b, "PAY-%06d,CT-%d,C-%d,%s,%s,CNY,%s\n", i, i%300, i%120,
				time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%2500).Format("2006-01-02"), amount, methods[i%len(methods)])
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		x := filepath.Join(dir, "xlsx", "payments.xlsx")
		if err := synth.WritePaymentsWorkbook(p, x, nil); err != nil {
			t.Fatal(err)
		}
		g := filepath.Join(dir, "gbk", "payments.csv")
		if err := synth.WritePaymentsGBK(p, g, nil); err != nil {
			t.Fatal(err)
		}
		compareLoads(t, "", p, x, g)
	})
	t.Run("bench", func(t *testing.T) {
		dir := os.Getenv("TRISCOPE_BENCH_DIR")
		if dir == "" {
			dir = filepath.Join("..", "bench-data", "default-1")
		}
		x := filepath.Join(dir, "variants", "xlsx", "payments.xlsx")
		if _, err := os.Stat(x); err != nil {
			t.Skipf("no bench workbook %s (bench-load writes it)", x)
		}
		// The GBK variant holds the same Chinese method names as the workbook.
		compareLoads(t, filepath.Join(dir, "fx_rates.csv"), filepath.Join(dir, "variants", "gbk", "payments.csv"), x)
	})
}

// compareLoads loads each input into a warehouse of its own (after fx, if
// given) and compares the payments loaded.
func compareLoads(t *testing.T, fx string, inputs ...string) {
	t.Helper()
	ent, _ := EntityByName("payments")
	var cols []string
	for _, c := range ent.Columns {
		cols = append(cols, fmt.Sprintf("CAST(%s AS VARCHAR)", quoteIdent(c.Name)))
	}
	var first []string
	for i, in := range inputs {
		w := openWarehouse(t)
		if fx != "" {
			if _, err := Load(context.Background(), w, []string{fx}, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := Load(context.Background(), w, []string{in}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if tot := rep.Totals(); tot.Loaded != tot.Read || tot.Read == 0 {
			t.Fatalf("%s: %d rows read, %d loaded", in, tot.Read, tot.Loaded)
		}
		got := queryStrings(t, w, fmt.Sprintf("SELECT %s FROM payments ORDER BY ALL", strings.Join(cols, ", ")), func(s string) string { return s })
		if i == 0 {
			first = got
			continue
		}
		if len(got) != len(first) {
			t.Fatalf("%s: %d rows, %s: %d", inputs[0], len(first), in, len(got))
		}
		for j := range got {
			if got[j] != first[j] {
				t.Fatalf("row %d differs:\n%s: %s\n%s: %s", j, inputs[0], first[j], in, got[j])
			}
		}
	}
}
