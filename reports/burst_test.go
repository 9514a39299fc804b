package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/triscope/triscope/reports/schedule"
)

// A report burst to a rep, a manager and an analyst over SMTP (an
// in-process go-smtp server): each gets one message, and each message's
// attachments hold exactly what the dashboards show that user — the rows
// behind the collections chart, the payments (the dashboards' own CSV export, as that user)
// and bookings by month (the dashboards' chart JSON, as that user).
func TestBurstEachRecipientGetsTheirOwnScope(t *testing.T) {
	setup(t)
	ctx := context.Background()
	before := len(env.smtp.received())
	info, err := env.rt.ReportSend(ctx, "burst-scope", "test")
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != schedule.StatusSucceeded || info.Trigger != schedule.TriggerManual {
		t.Fatalf("run %s: %s %s %s", info.ID, info.Trigger, info.Status, info.Error)
	}
	got := env.smtp.received()[before:]
	if len(got) != 3 {
		t.Fatalf("%d messages, want 3 (one per recipient)", len(got))
	}
	byUser := map[string]message{}
	ids := map[string]bool{}
	for _, r := range got {
		m := parseMail(t, r.Data)
		user := strings.TrimSuffix(r.To[0], "@example.com")
		byUser[user] = m
		ids[m.Header.Get("Message-Id")] = true
	}
	if len(ids) != 3 {
		t.Errorf("Message-IDs are not distinct: %v", ids)
	}
	// The ledger has one sent delivery per recipient, with the key the
	// Message-ID carries.
	for _, rc := range info.Recipients {
		if rc.Status != "delivered" || len(rc.Deliveries) != 1 || rc.Deliveries[0].Status != schedule.DeliverySent {
			t.Errorf("recipient %s: %s %+v", rc.Key, rc.Status, rc.Deliveries)
			continue
		}
		if mid := byUser[rc.Key].Header.Get("Message-Id"); !strings.Contains(mid, rc.Deliveries[0].Key) {
			t.Errorf("%s: Message-ID %s does not carry the delivery key %s", rc.Key, mid, rc.Deliveries[0].Key)
		}
	}
	py := debianPython(t)
	keys := map[string]map[string]bool{}
	for _, user := range []string{"rep", "east", "analyst"} {
		m, ok := byUser[user]
		if !ok {
			t.Errorf("no message for %s", user)
			continue
		}
		lang := map[string]string{"east": "zh-CN"}[user]
		if lang == "" {
			lang = "en"
		}
		c := login(t, user)
		// The payments behind the collections chart: the dashboards' export as this user.
		resp, body := c.get("/api/charts/telescope.collections/export?format=csv&period=ytd&lang=" + lang)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: export %d %s", user, resp.StatusCode, body)
		}
		want := readCSV(t, []byte(body))
		var rows [][]string
		for name, b := range m.Attachments {
			if strings.HasSuffix(name, ".csv") {
				// The same columns; the columns of codes after them may differ
				// (the export adds one only when its rows hold a code).
				if t2 := readCSV(t, b); slices.Equal(withoutCodes(t2[0]), withoutCodes(want[0])) {
					rows = t2
				}
			}
		}
		if rows == nil {
			t.Errorf("%s: no CSV attachment with the columns of the dashboards' rows %v (attachments %v)", user, want[0], keysOf(m.Attachments))
			continue
		}
		keys[user] = sameRows(t, user, rows, want)
		if len(keys[user]) == 0 {
			t.Errorf("%s: no rows at all: the test proves nothing", user)
		}
		// Bookings by month in the XLSX: the chart's numbers as this user sees them.
		var xlsx []byte
		for name, b := range m.Attachments {
			if strings.HasSuffix(name, ".xlsx") {
				xlsx = b
			}
		}
		if xlsx == nil {
			t.Errorf("%s: no XLSX attached", user)
			continue
		}
		var chart struct {
			Option struct {
				Series []struct {
					Name string            `json:"name"`
					Data []json.RawMessage `json:"data"`
				} `json:"series"`
			} `json:"option"`
		}
		_, body = c.get("/api/charts/telescope.bookings?period=ytd&lang=" + lang)
		if err := json.Unmarshal([]byte(body), &chart); err != nil || len(chart.Option.Series) == 0 {
			t.Fatalf("%s: chart JSON: %v %s", user, err, body)
		}
		sheets := readXLSX(t, py, xlsx)
		sheet := sheets.find(chart.Option.Series[0].Name)
		if sheet == nil {
			t.Errorf("%s: no sheet with the series %q", user, chart.Option.Series[0].Name)
			continue
		}
		if sheet.Charts != 1 {
			t.Errorf("%s: sheet %s has %d native charts, want 1", user, sheet.Name, sheet.Charts)
		}
		for si, s := range chart.Option.Series {
			col := slices.Index(sheet.Rows[0], any(s.Name))
			if col < 0 {
				t.Errorf("%s: no column %q in %v", user, s.Name, sheet.Rows[0])
				continue
			}
			for i, raw := range s.Data {
				var pt struct {
					Value *float64 `json:"value"`
				}
				json.Unmarshal(raw, &pt)
				cell := sheet.Rows[i+1][col]
				switch {
				case pt.Value == nil && cell != nil:
					t.Errorf("%s: series %d point %d: sheet %v, chart empty", user, si, i, cell)
				case pt.Value != nil:
					f, ok := cell.(float64)
					if !ok || f-*pt.Value > 0.005 || *pt.Value-f > 0.005 {
						t.Errorf("%s: series %s point %d: sheet %v (%T), chart %v", user, s.Name, i, cell, cell, *pt.Value)
					}
				}
			}
		}
	}
	t.Logf("rows: rep %d, analyst %d, manager %d", len(keys["rep"]), len(keys["analyst"]), len(keys["east"]))
	// The scopes nest as the org tree does: the rep and the analyst see
	// part of what the manager sees, the manager more than either.
	for _, sub := range []string{"rep", "analyst"} {
		for k := range keys[sub] {
			if !keys["east"][k] {
				t.Errorf("%s has %s, which their manager does not", sub, k)
			}
		}
		if len(keys[sub]) >= len(keys["east"]) {
			t.Errorf("%s has %d rows, the manager %d: the scopes do not differ", sub, len(keys[sub]), len(keys["east"]))
		}
	}
}

func withoutCodes(header []string) []string {
	var out []string
	for _, h := range header {
		if !strings.HasSuffix(h, " (code)") {
			out = append(out, h)
		}
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("CSV: %v", err)
	}
	return rows
}

// sameRows compares a report's rows with the dashboards' rows: the same
// keys (first column) and the same numbers (codes may be translated in the
// report, as the UI shows them). It returns the keys.
func sameRows(t *testing.T, who string, got, want [][]string) map[string]bool {
	t.Helper()
	index := func(rows [][]string) map[string][]string {
		m := map[string][]string{}
		for _, r := range rows[1:] {
			m[r[0]] = r
		}
		return m
	}
	g, w := index(got), index(want)
	if len(got) != len(want) || len(g) != len(w) {
		t.Errorf("%s: %d rows, the dashboards show %d", who, len(got)-1, len(want)-1)
	}
	keys := map[string]bool{}
	for k, wr := range w {
		gr, ok := g[k]
		if !ok {
			t.Errorf("%s: row %s is on the dashboards, not in the report", who, k)
			continue
		}
		keys[k] = true
		for i := range wr {
			if i >= len(gr) || strings.HasSuffix(want[0][i], " (code)") {
				continue
			}
			wf, err1 := strconv.ParseFloat(wr[i], 64)
			gf, err2 := strconv.ParseFloat(gr[i], 64)
			if err1 == nil && (err2 != nil || wf != gf) {
				t.Errorf("%s: row %s column %s: report %q, dashboards %q", who, k, want[0][i], gr[i], wr[i])
			}
		}
	}
	for k := range g {
		if !keys[k] {
			t.Errorf("%s: row %s is in the report but not on the dashboards (outside the scope?)", who, k)
		}
	}
	return keys
}

// xlsxSheet is a worksheet as openpyxl reads it.
type xlsxSheet struct {
	Name   string   `json:"name"`
	Charts int      `json:"charts"`
	Types  []string `json:"types"`
	Rows   [][]any  `json:"rows"`
	Frozen string   `json:"frozen"`
}

type xlsxBook []xlsxSheet

func (b xlsxBook) find(header string) *xlsxSheet {
	for i := range b {
		if len(b[i].Rows) > 0 && slices.ContainsFunc(b[i].Rows[0], func(v any) bool { return v == header }) {
			return &b[i]
		}
	}
	return nil
}

// readXLSX reads a workbook with Debian's openpyxl: every sheet's cells (as
// JSON: numbers stay numbers), its native charts and its frozen pane.
func readXLSX(t *testing.T, py string, b []byte) xlsxBook {
	t.Helper()
	f := filepath.Join(t.TempDir(), "book.xlsx")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    rows = []
    types = set()
    for row in ws.iter_rows(values_only=True):
        vals = []
        for v in row:
            types.add(type(v).__name__)
            if isinstance(v, (datetime.date, datetime.datetime)):
                v = v.isoformat()
            vals.append(v)
        rows.append(vals)
    out.append({"name": ws.title, "charts": len(ws._charts), "types": sorted(types), "rows": rows, "frozen": ws.freeze_panes or ""})
json.dump(out, sys.stdout)
`
	out, err := exec.Command(py, "-c", script, f).Output()
	if err != nil {
		t.Fatalf("openpyxl: %v", err)
	}
	var book xlsxBook
	if err := json.Unmarshal(out, &book); err != nil {
		t.Fatal(err)
	}
	return book
}
