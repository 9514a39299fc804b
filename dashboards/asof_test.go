package dashboards_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// A stray row dated after the rest moves the as-of date: the page says so
// — the models were computed on older data (a banner) and, when the as-of
// day is the day of the last load, that the latest complete day is the one
// before (issue 17 point 2).
func TestAMovedAsOfDateIsVisible(t *testing.T) {
	c := login(t, "ceo")
	_, before := c.get("/telescope?lang=en")
	if strings.Contains(before, `notices stale`) || strings.Contains(before, "latest complete day") {
		t.Fatal("the fixture's page already shows a stale banner or a day in progress")
	}
	loc, err := time.LoadLocation(warehouse.DefaultTimeZone) // the server's days
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(loc)
	today := now.Format("2006-01-02") // the day of the load below
	change := func(add bool) {
		t.Helper()
		err := env.w.WriteTx(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
			q := `DELETE FROM payments WHERE payment_id = 'FIX-STRAY-1'`
			if add {
				q = `INSERT INTO payments (payment_id, contract_id, customer_id, paid_on, amount, currency, method)
					SELECT 'FIX-STRAY-1', contract_id, customer_id, CAST('` + today + `' AS DATE), 7000, 'CNY', 'transfer'
					FROM contracts ORDER BY contract_id LIMIT 1`
			}
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return err
			}
			var loadID int64
			if err := conn.QueryRowContext(ctx, `INSERT INTO load_runs (load_id, started_at, finished_at, status, message)
				SELECT nextval('load_id_seq'), now(), now(), 'committed', 'as-of test' RETURNING load_id`).Scan(&loadID); err != nil {
				return err
			}
			return rebuildFacts(ctx, conn, loadID)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	change(true)
	defer change(false)
	var page string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, page = c.get("/telescope?lang=en")
		if strings.Contains(page, `notices stale`) || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(page, "The models (customer value, CLV, forecasts, alerts, collisions) were computed on data up to") {
		t.Error("no banner says the models were computed on older data")
	}
	yesterday := now.AddDate(0, 0, -1)
	if want := "latest complete day " + yesterday.Format("2 Jan 2006"); !strings.Contains(page, want) {
		i := strings.Index(page, "As of")
		t.Errorf("the page does not say %q: %s", want, page[i:min(len(page), i+300)])
	}
}

// Issue 17 point 2: a stray ¥7,000 payment dated five days after the rest of
// the data (2026-11-05; the data ends on 2026-10-31) moved the as-of date and
// pulled the whole of November's target into year to date (company
// attainment 94.7 % → 91.2 %, every region amber). Targets now count the
// working days the figure's data reaches: company and region attainment move
// by less than half a point.
func TestAStrayPaymentMovesNoTarget(t *testing.T) {
	c := login(t, "ceo")
	attainment := func() (company float64, regions map[string]float64) {
		t.Helper()
		var k chartJSON
		if code := c.getJSON("/api/charts/telescope.kpis?period=ytd", &k); code != 200 {
			t.Fatalf("telescope.kpis: HTTP %d", code)
		}
		for _, x := range k.KPIs {
			if x.Key == "bookings" && x.Value != nil && x.Target != nil && *x.Target > 0 {
				company = *x.Value / *x.Target
			}
		}
		var a chartJSON
		if code := c.getJSON("/api/charts/telescope.attainment?period=ytd", &a); code != 200 {
			t.Fatalf("telescope.attainment: HTTP %d", code)
		}
		var opt struct {
			XAxis  []struct{ Data []string } `json:"xAxis"`
			YAxis  []struct{ Data []string } `json:"yAxis"`
			Series []struct {
				Data []struct {
					Value *float64 `json:"value"`
				} `json:"data"`
			} `json:"series"`
		}
		if err := json.Unmarshal(a.Option, &opt); err != nil {
			t.Fatal(err)
		}
		labels := append(opt.YAxis, opt.XAxis...)
		regions = map[string]float64{}
		if len(opt.Series) > 0 && len(labels) > 0 {
			for i, v := range opt.Series[0].Data {
				for _, l := range labels {
					if i < len(l.Data) && v.Value != nil {
						regions[l.Data[i]] = *v.Value
					}
				}
			}
		}
		return company, regions
	}
	before, regionsBefore := attainment()
	if before == 0 || len(regionsBefore) == 0 {
		t.Fatalf("no attainment on the fixture: %v %v", before, regionsBefore)
	}
	stray := func(add bool) {
		t.Helper()
		err := env.w.WriteTx(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
			q := `DELETE FROM payments WHERE payment_id = 'FIX-STRAY-5D'`
			if add {
				q = `INSERT INTO payments (payment_id, contract_id, customer_id, paid_on, amount, currency, method)
					SELECT 'FIX-STRAY-5D', contract_id, customer_id, DATE '2026-11-05', 7000, 'CNY', 'transfer'
					FROM contracts ORDER BY contract_id LIMIT 1`
			}
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return err
			}
			var loadID int64
			if err := conn.QueryRowContext(ctx, `INSERT INTO load_runs (load_id, started_at, finished_at, status, message)
				SELECT nextval('load_id_seq'), now(), now(), 'committed', 'stray payment test' RETURNING load_id`).Scan(&loadID); err != nil {
				return err
			}
			return rebuildFacts(ctx, conn, loadID)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stray(true)
	defer stray(false)
	var after float64
	var regionsAfter map[string]float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, page := c.get("/telescope?lang=en")
		if strings.Contains(page, "5 Nov 2026") || time.Now().After(deadline) {
			break
		}
	}
	after, regionsAfter = attainment()
	t.Logf("company attainment %.2f %% → %.2f %%", 100*before, 100*after)
	if d := 100 * math.Abs(after-before); d >= 0.5 {
		t.Errorf("company attainment moved %.2f points (%.2f %% → %.2f %%)", d, 100*before, 100*after)
	}
	for r, v := range regionsBefore {
		if d := 100 * math.Abs(regionsAfter[r]-v); d >= 0.5 {
			t.Errorf("%s: attainment moved %.2f points (%.2f → %.2f)", r, d, v, regionsAfter[r])
		}
	}
}

// While the models are being computed (a refresh under way: the demo serves
// its pages before its first refresh ends), the page says so, in place of
// "models computed at", and a banner says what that means for the figures;
// when the refresh ends, both go.
func TestComputingModelsIsVisible(t *testing.T) {
	c := login(t, "ceo")
	for _, lang := range []string{"en", "zh-CN"} {
		if _, page := c.get("/telescope?lang=" + lang); strings.Contains(page, `notices computing`) {
			t.Fatalf("%s: the page says the models are being computed before any refresh started", lang)
		}
	}
	done := env.rt.Engine().StartComputing(time.Now())
	for lang, want := range map[string]string{
		"en":    "The models (customer value, CLV, forecasts, alerts, collisions) are being computed (started ",
		"zh-CN": "模型（客户价值、CLV、预测、预警、撞单）正在计算（开始于 ",
	} {
		_, page := c.get("/telescope?lang=" + lang)
		if !strings.Contains(page, `notices computing`) || !strings.Contains(page, want) {
			t.Errorf("%s: no banner says the models are being computed", lang)
		}
		if short := map[string]string{"en": "· models being computed", "zh-CN": "· 模型计算中"}[lang]; !strings.Contains(page, short) {
			t.Errorf("%s: the freshness line does not say %q", lang, short)
		}
	}
	// A second refresh queued behind the first: the pages say so until both end.
	done2 := env.rt.Engine().StartComputing(time.Now())
	done()
	done() // twice is once
	if _, page := c.get("/telescope?lang=en"); !strings.Contains(page, `notices computing`) {
		t.Error("one of two refreshes ended and the banner went")
	}
	done2()
	if _, page := c.get("/telescope?lang=en"); strings.Contains(page, `notices computing`) {
		t.Error("the banner stays after the refresh ended")
	}
}
