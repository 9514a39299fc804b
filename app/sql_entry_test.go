package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type attackCase struct {
	Name    string `yaml:"name"`
	SQL     string `yaml:"sql"`
	Expect  string `yaml:"expect"`
	Message string `yaml:"message"`
	Timeout string `yaml:"timeout"`
	Compare *bool  `yaml:"compare"` // false: the rows are not compared (a huge result)
}

// TestSQLAttackCatalogueAllEntryPoints runs the attack catalogue of the
// sandbox (query/adhoc/testdata/attacks.yaml, proved there against a
// database holding only each user's rows) through the four entry points —
// the command line's way in (the admin API of the running server), the
// HTTP API with an API token, the console's API with a session and its
// CSRF token, and Arrow Flight SQL — as a rep, a manager and an analyst of
// the demo company: every refusal is a refusal with the catalogue's message
// at every entry point, every other case answers the same rows (or the
// same error class) at all four, no result holds the canary file's content,
// and the snapshot the queries read is not written.
func TestSQLAttackCatalogueAllEntryPoints(t *testing.T) {
	setupSQL(t)
	b, err := os.ReadFile("../query/adhoc/testdata/attacks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []attackCase
	if err := yaml.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 60 {
		t.Fatalf("%d cases", len(cases))
	}
	snap := currentSnapshot(t)
	before := fileHash(t, snap)
	runs := 0
	for _, user := range []string{"rep", "manager", "analyst"} {
		br := signIn(t, user)
		cl, fctx, err := flightClient(t, user, sqlEnv.password)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			q := strings.NewReplacer("{db}", snap, "{canary}", sqlEnv.canary).Replace(c.SQL)
			timeout := 10 * time.Second
			if c.Timeout != "" {
				timeout, _ = time.ParseDuration(c.Timeout)
			}
			got := map[string]outcome{
				"cli":     viaCLI(t, user, q, timeout),
				"api":     viaAPI(t, user, q, timeout),
				"console": viaConsole(t, br, q, timeout),
			}
			if c.Expect != "timeout" || timeout <= 10*time.Second {
				// Flight has no per-query limit but the role's (10 s here).
				got["flight"] = viaFlight(t, cl, fctx, q)
			}
			runs++
			where := user + " / " + c.Name
			for entry, o := range got {
				for _, r := range o.rows {
					if strings.Contains(r, "CANARY-7f3a") {
						t.Errorf("%s via %s: a file was read: %s", where, entry, r)
					}
				}
				if strings.Contains(o.message, "CANARY") {
					t.Errorf("%s via %s: the error shows a file: %s", where, entry, o.message)
				}
				switch c.Expect {
				case "refused":
					if c.Message == "the name of an existing relation" && o.class == "" {
						// The worker refuses a CTE named like a table of the
						// snapshot (the fixture's org_tree); the demo has no
						// such table, so the CTE is harmless: the rows must be
						// the user's own customers.
						if own := viaAPI(t, user, "SELECT customer_id FROM customers", timeout); strings.Join(own.rows, ",") != strings.Join(o.rows, ",") {
							t.Errorf("%s via %s: %v, want the user's own customers (%v)", where, entry, o, own)
						}
						continue
					}
					if o.class != "refused" || (c.Message != "" && !strings.Contains(o.message, c.Message)) {
						t.Errorf("%s via %s: %v, want refused: %s", where, entry, o, c.Message)
					}
				case "ok":
					huge := c.Compare != nil && !*c.Compare
					if entry == "flight" && huge && o.class == "timeout" {
						continue // see below: Flight streams up to its own cap within the time limit
					}
					if o.class != "" && o.class != "syntax" { // the fixture's columns may not exist in the demo
						t.Errorf("%s via %s: %v", where, entry, o)
					}
				default:
					if o.class != c.Expect && !(c.Expect == "memory" && o.class == "timeout") {
						t.Errorf("%s via %s: %v, want %s", where, entry, o, c.Expect)
					}
				}
			}
			ref := got["api"]
			for entry, o := range got {
				if entry == "flight" && ref.class == "" && len(ref.rows) == 1000 && (len(o.rows) >= 1000 || o.class == "timeout") {
					// Capped at 1000 rows by the request; Flight's cap is its
					// own (sql.flight.max_rows, 2 M here) and its time limit
					// counts the streaming: on a busy machine 2 M rows can
					// take longer than the role's 10 s. Either way bounded.
					continue
				}
				if o.class != ref.class || strings.Join(o.rows, "\n") != strings.Join(ref.rows, "\n") {
					t.Errorf("%s: %s answered %v, the API %v", where, entry, o, ref)
					if len(o.rows) < 20 && len(ref.rows) < 20 {
						t.Logf("%s: %q\napi: %q", entry, o.rows, ref.rows)
					}
				}
			}
		}
	}
	if after := fileHash(t, snap); after != before {
		t.Error("a query wrote to the snapshot")
	}
	t.Logf("%d cases × 4 entry points", runs)
}

// TestSQLMatchesDashboards: legitimate analyst SQL returns exactly what the
// dashboards show the same user — the RFM segments chart of /customers
// (customers per segment) against GROUP BY segment over mart_rfm, and the
// customers the Customers page counts, for a rep, a manager and an analyst.
func TestSQLMatchesDashboards(t *testing.T) {
	setupSQL(t)
	for _, user := range []string{"rep", "manager", "analyst", "ceo"} {
		br := signIn(t, user)
		resp := br.do(t, http.MethodGet, "/api/charts/customers.segments", "")
		var chart struct {
			State  string `json:"state"`
			Series []struct {
				Name string    `json:"name"`
				Data []float64 `json:"data"`
			} `json:"series"`
			Categories []string `json:"categories"`
			Points     []struct {
				Label string  `json:"label"`
				Value float64 `json:"value"`
			} `json:"points"`
			Option json.RawMessage `json:"option"`
		}
		raw := map[string]any{}
		dec := json.NewDecoder(resp.Body)
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		b, _ := json.Marshal(raw)
		json.Unmarshal(b, &chart)
		o := viaConsole(t, br, "SELECT segment, count(*) AS customers FROM mart_rfm GROUP BY ALL", 10*time.Second)
		if o.class != "" {
			t.Fatalf("%s: %v", user, o)
		}
		want := map[string]float64{}
		for _, r := range o.rows {
			seg, n, _ := strings.Cut(r, "|")
			var f float64
			json.Unmarshal([]byte(n), &f)
			want[seg] = f
		}
		got := chartCounts(raw)
		if len(got) == 0 && len(want) > 0 {
			t.Fatalf("%s: no counts found in the chart JSON: %s", user, b[:min(len(b), 600)])
		}
		for seg, n := range want {
			if got[seg] != n {
				t.Errorf("%s: segment %s: SQL %v customers, dashboard %v", user, seg, n, got[seg])
			}
		}
		for seg, n := range got {
			if _, ok := want[seg]; !ok && n != 0 {
				t.Errorf("%s: segment %s on the dashboard (%v) but not in SQL", user, seg, n)
			}
		}
		t.Logf("%s: %d segments agree", user, len(want))
	}
}

// chartCounts reads a bar chart's values by its points' keys (seg:<name>).
func chartCounts(raw map[string]any) map[string]float64 {
	out := map[string]float64{}
	points, _ := raw["points"].([]any)
	opt, _ := raw["option"].(map[string]any)
	series, _ := opt["series"].([]any)
	if len(series) == 0 {
		return out
	}
	s0, _ := series[0].(map[string]any)
	data, _ := s0["data"].([]any)
	for i, p := range points {
		pm, _ := p.(map[string]any)
		key, _ := pm["key"].(string)
		seg, ok := strings.CutPrefix(key, "seg:")
		if !ok || i >= len(data) {
			continue
		}
		switch v := data[i].(type) {
		case float64:
			out[seg] = v
		case map[string]any:
			out[seg], _ = v["value"].(float64)
		}
	}
	return out
}
