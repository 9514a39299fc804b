package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/triscope/triscope/warehouse"
)

var (
	smallOnce sync.Once
	smallDir  string
	smallRes  Result
	smallErr  error
	smallDB   *sql.DB
)

func TestMain(m *testing.M) {
	code := m.Run()
	if smallDir != "" {
		os.RemoveAll(smallDir)
	}
	os.Exit(code)
}

// small returns the small English data set (seed 1), generated once, and
// the DuckDB it is loaded into.
func small(t *testing.T) (string, Result, *sql.DB) {
	t.Helper()
	smallOnce.Do(func() {
		smallDir, smallErr = os.MkdirTemp("", "synth-small-")
		if smallErr != nil {
			return
		}
		smallRes, smallErr = Generate(context.Background(), Config{Size: "small", Seed: 1}, smallDir, nil)
	})
	if smallErr != nil {
		t.Fatal(smallErr)
	}
	if smallDB == nil {
		smallDB = openGenerated(&onceTB{t}, smallDir, "csv")
	}
	return smallDir, smallRes, smallDB
}

// onceTB keeps the shared database open beyond the first test's cleanup.
type onceTB struct{ *testing.T }

func (o *onceTB) Cleanup(func()) {}

func hashFiles(t *testing.T, res Result) map[string][32]byte {
	t.Helper()
	h := map[string][32]byte{}
	for _, f := range res.Files {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		h[f.Entity] = sha256.Sum256(b)
	}
	return h
}

func TestDeterminism(t *testing.T) {
	_, res1, _ := small(t)
	dir2 := t.TempDir()
	res2, err := Generate(context.Background(), Config{Size: "small", Seed: 1, Locale: "en", Format: "csv"}, dir2, nil)
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := hashFiles(t, res1), hashFiles(t, res2)
	if len(h1) != 17 || len(h2) != 17 {
		t.Fatalf("want 17 files, got %d and %d", len(h1), len(h2))
	}
	for e, h := range h1 {
		if h2[e] != h {
			t.Errorf("%s differs between two runs with the same seed", e)
		}
	}
	res3, err := Generate(context.Background(), Config{Size: "small", Seed: 2}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h3 := hashFiles(t, res3)
	for _, e := range []string{"customers", "opportunities", "payments", "reps"} {
		if h3[e] == h1[e] {
			t.Errorf("%s identical for seeds 1 and 2", e)
		}
	}
}

// schemaColumns parses 0001_base_tables.sql: table → columns (name, type)
// without _load_id.
func schemaColumns(t *testing.T) map[string][]column {
	b, err := os.ReadFile("../../warehouse/migrations/0001_base_tables.sql")
	if err != nil {
		t.Fatalf("reading the warehouse schema the generator must match: %v", err)
	}
	out := map[string][]column{}
	tableRE := regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\);`)
	colRE := regexp.MustCompile(`^\s*(\w+)\s+([A-Z]+(?:\(\d+,\d+\))?)`)
	for _, m := range tableRE.FindAllStringSubmatch(string(b), -1) {
		for _, line := range strings.Split(m[2], "\n") {
			c := colRE.FindStringSubmatch(line)
			if c == nil || c[1] == "_load_id" {
				continue
			}
			out[m[1]] = append(out[m[1]], column{c[1], c[2]})
		}
	}
	return out
}

func TestHeadersMatchSchema(t *testing.T) {
	dir, res, _ := small(t)
	schema := schemaColumns(t)
	if len(schema) != 17 {
		t.Fatalf("parsed %d tables from the schema, want 17", len(schema))
	}
	seen := map[string]bool{}
	for _, f := range res.Files {
		seen[f.Entity] = true
		want, ok := schema[f.Entity]
		if !ok {
			t.Errorf("%s is not a table of the schema", f.Entity)
			continue
		}
		fh, err := os.Open(filepath.Join(dir, f.Entity+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		header, err := csv.NewReader(fh).Read()
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range want {
			names = append(names, c.name)
		}
		if strings.Join(header, ",") != strings.Join(names, ",") {
			t.Errorf("%s header %v, schema %v", f.Entity, header, names)
		}
		// the declared types used for parquet and reading back match too
		spec := entities[entityIndex(f.Entity)]
		for i, c := range want {
			if i < len(spec.cols) && spec.cols[i].typ != c.typ {
				t.Errorf("%s.%s declared %s, schema %s", f.Entity, c.name, spec.cols[i].typ, c.typ)
			}
		}
	}
	for name := range schema {
		if !seen[name] {
			t.Errorf("no file for table %s", name)
		}
	}
}

func entityIndex(name string) int {
	for i := range entities {
		if entities[i].name == name {
			return i
		}
	}
	return -1
}

// TestCSVFormat checks the bytes: UTF-8 without BOM, LF newlines, strict
// RFC 4180 with a fixed field count, and the value formats of dates,
// timestamps, amounts and booleans.
func TestCSVFormat(t *testing.T) {
	dir, res, _ := small(t)
	date := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	ts := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$`)
	money := regexp.MustCompile(`^-?\d+\.\d{2}$`)
	qty := regexp.MustCompile(`^\d+(\.\d{1,3})?$`)
	for _, f := range res.Files {
		b, err := os.ReadFile(filepath.Join(dir, f.Entity+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) {
			t.Errorf("%s starts with a BOM", f.Entity)
		}
		if bytes.Contains(b, []byte("\r")) {
			t.Errorf("%s has CR characters", f.Entity)
		}
		spec := entities[entityIndex(f.Entity)]
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = len(spec.cols)
		r.ReuseRecord = true
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
		var n int64
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f.Entity, err)
			}
			n++
			for i, c := range spec.cols {
				v := rec[i]
				if v == "" {
					continue
				}
				var ok bool
				switch c.typ {
				case warehouse.TypeDate:
					ok = date.MatchString(v)
				case warehouse.TypeTimestamp:
					ok = ts.MatchString(v)
				case warehouse.TypeMoney:
					ok = money.MatchString(v)
				case warehouse.TypeQuantity:
					ok = qty.MatchString(v)
				case warehouse.TypeBoolean:
					ok = v == "true" || v == "false"
				default:
					ok = strings.TrimSpace(v) == v
				}
				if !ok {
					t.Fatalf("%s line %d column %s: bad value %q", f.Entity, n+1, c.name, v)
				}
			}
		}
		if n != f.Rows {
			t.Errorf("%s: %d data rows, Result says %d", f.Entity, n, f.Rows)
		}
	}
}

func TestStructure(t *testing.T) {
	_, _, db := small(t)
	for level, want := range map[string]int64{"company": 1, "region": 7, "branch": 46} {
		if n := q1[int64](t, db, "SELECT count(*) FROM org_units WHERE level = '"+level+"'"); n != want {
			t.Errorf("%d %s units, want %d", n, level, want)
		}
	}
	if n := q1[int64](t, db, `SELECT count(*) FROM (SELECT parent_id, count(*) n FROM org_units WHERE level='department' GROUP BY ALL) WHERE n NOT BETWEEN 2 AND 4`); n != 0 {
		t.Errorf("%d branches without 2-4 departments", n)
	}
	if n := q1[int64](t, db, "SELECT count(*) FROM reps"); n < 550 || n > 650 {
		t.Errorf("%d reps, want ~600", n)
	}
	if n := q1[int64](t, db, "SELECT count(*) FROM reps WHERE manager_rep_id IS NULL"); n != 1 {
		t.Errorf("%d reps without a manager, want 1 (the CEO)", n)
	}
	// the manager is one level up: a rep's manager sits in the parent unit
	// (department heads in their branch) or is the department head
	if n := q1[int64](t, db, `
		SELECT count(*) FROM reps r JOIN reps m ON m.rep_id = r.manager_rep_id
		JOIN org_units ur ON ur.org_unit_id = r.org_unit_id JOIN org_units um ON um.org_unit_id = m.org_unit_id
		WHERE NOT (um.org_unit_id = ur.parent_id OR (um.org_unit_id = ur.org_unit_id AND ur.level = 'department'))`); n != 0 {
		t.Errorf("%d reps whose manager is not one level up", n)
	}
	left := q1[float64](t, db, "SELECT avg((left_on IS NOT NULL)::INT)::DOUBLE FROM reps")
	if left < 0.05 || left > 0.11 {
		t.Errorf("%.1f%% of reps left, want ~8%%", 100*left)
	}
	if n := q1[int64](t, db, "SELECT count(*) FROM partners"); n < 550 || n > 650 {
		t.Errorf("%d partners, want ~600", n)
	}
	if n := q1[int64](t, db, "SELECT count(*) FROM products"); n < 35 || n > 45 {
		t.Errorf("%d products, want ~40", n)
	}
	if s := q1[string](t, db, "SELECT string_agg(stage || ':' || position || ':' || default_probability::INT || ':' || is_closed, ' ' ORDER BY position) FROM stages"); s !=
		"lead:1:10:false qualified:2:20:false needs_analysis:3:40:false proposal:4:60:false negotiation:5:80:false won:6:100:true lost:7:0:true" {
		t.Errorf("stages: %s", s)
	}
	if n := q1[int64](t, db, "SELECT count(*) FROM customers"); n < 1900 || n > 2200 {
		t.Errorf("%d customers", n)
	}
	if n := q1[int64](t, db, "SELECT count(*) FROM opportunities"); n < 6000 || n > 11000 {
		t.Errorf("%d opportunities", n)
	}
}

// TestIntegrity: every reference resolves, keys are unique, enums hold,
// stage histories are monotone and end on the closing day, money adds up and
// nothing is dated after End except what may be.
func TestIntegrity(t *testing.T) {
	_, _, db := small(t)
	checkIntegrity(t, db, DefaultEnd)
}

// TestCustomEnd: another End (mid-month) moves the whole history with it.
func TestCustomEnd(t *testing.T) {
	dir := t.TempDir()
	end := time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)
	if _, err := Generate(context.Background(), Config{Size: "small", Seed: 9, End: end}, dir, nil); err != nil {
		t.Fatal(err)
	}
	db := openGenerated(t, dir, "csv")
	checkIntegrity(t, db, end)
	if d := q1[time.Time](t, db, "SELECT max(closed_on) FROM opportunities"); !d.Equal(end) && d.After(end) {
		t.Errorf("last close %v after End", d)
	}
	if d := q1[time.Time](t, db, "SELECT min(closed_on) FROM opportunities"); d.Before(time.Date(2022, 6, 16, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("first close %v before the 3-year window", d)
	}
}

func checkIntegrity(t *testing.T, db *sql.DB, endT time.Time) {
	t.Helper()
	end := "DATE '" + endT.Format("2006-01-02") + "'"
	start := "DATE '" + endT.AddDate(-3, 0, 1).Format("2006-01-02") + "'"
	horizon := "DATE '" + time.Date(endT.Year(), endT.Month()+horizonMonths, 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02") + "'"
	zero := map[string]string{
		// references
		"opportunity→customer": `SELECT count(*) FROM opportunities o ANTI JOIN customers c USING (customer_id)`,
		"opportunity→rep":      `SELECT count(*) FROM opportunities o WHERE owner_rep_id NOT IN (SELECT rep_id FROM reps)`,
		"opportunity→partner":  `SELECT count(*) FROM opportunities WHERE partner_id IS NOT NULL AND partner_id NOT IN (SELECT partner_id FROM partners)`,
		"opportunity→product":  `SELECT count(*) FROM opportunities WHERE product_id NOT IN (SELECT product_id FROM products)`,
		"opportunity→campaign": `SELECT count(*) FROM opportunities WHERE campaign_id IS NOT NULL AND campaign_id NOT IN (SELECT campaign_id FROM campaigns)`,
		"opportunity→stage":    `SELECT count(*) FROM opportunities WHERE stage NOT IN (SELECT stage FROM stages)`,
		"stage→opportunity":    `SELECT count(*) FROM opportunity_stages ANTI JOIN opportunities USING (opportunity_id)`,
		"stage→stages":         `SELECT count(*) FROM opportunity_stages WHERE stage NOT IN (SELECT stage FROM stages)`,
		"contract→won opp":     `SELECT count(*) FROM contracts c WHERE opportunity_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM opportunities o WHERE o.opportunity_id = c.opportunity_id AND o.customer_id = c.customer_id AND o.status = 'won' AND o.closed_on = c.signed_on AND o.amount = c.amount AND o.currency = c.currency)`,
		"office hours": `SELECT count(*) FROM (SELECT created_at t FROM customers UNION ALL SELECT created_at FROM opportunities UNION ALL SELECT updated_at FROM opportunities
		                  UNION ALL SELECT entered_at FROM opportunity_stages UNION ALL SELECT occurred_at FROM activities) WHERE hour(t) NOT BETWEEN 8 AND 21`,
		"closed in window":        `SELECT count(*) FROM opportunities WHERE closed_on < {START}`,
		"legacy contracts":        `SELECT count(*) FROM contracts WHERE opportunity_id IS NULL AND signed_on >= {START}`,
		"contract→rep":            `SELECT count(*) FROM contracts WHERE owner_rep_id NOT IN (SELECT rep_id FROM reps)`,
		"won opp→contract":        `SELECT count(*) FROM opportunities o WHERE status = 'won' AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.opportunity_id = o.opportunity_id)`,
		"line→contract":           `SELECT count(*) FROM contract_lines ANTI JOIN contracts USING (contract_id)`,
		"line→product":            `SELECT count(*) FROM contract_lines WHERE product_id NOT IN (SELECT product_id FROM products)`,
		"schedule→contract":       `SELECT count(*) FROM payment_schedule ANTI JOIN contracts USING (contract_id)`,
		"payment→contract":        `SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT 1 FROM contracts c WHERE c.contract_id = p.contract_id AND c.customer_id = p.customer_id AND c.currency = p.currency)`,
		"payment→customer":        `SELECT count(*) FROM payments ANTI JOIN customers USING (customer_id)`,
		"expense→customer":        `SELECT count(*) FROM expenses ANTI JOIN customers USING (customer_id)`,
		"expense→opportunity":     `SELECT count(*) FROM expenses e WHERE opportunity_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM opportunities o WHERE o.opportunity_id = e.opportunity_id AND o.customer_id = e.customer_id)`,
		"expense→contract":        `SELECT count(*) FROM expenses e WHERE contract_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.contract_id = e.contract_id AND c.customer_id = e.customer_id)`,
		"activity→customer":       `SELECT count(*) FROM activities ANTI JOIN customers USING (customer_id)`,
		"activity→opportunity":    `SELECT count(*) FROM activities a WHERE opportunity_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM opportunities o WHERE o.opportunity_id = a.opportunity_id AND o.customer_id = a.customer_id)`,
		"activity→rep":            `SELECT count(*) FROM activities WHERE rep_id IS NOT NULL AND rep_id NOT IN (SELECT rep_id FROM reps)`,
		"activity→campaign":       `SELECT count(*) FROM activities WHERE campaign_id IS NOT NULL AND campaign_id NOT IN (SELECT campaign_id FROM campaigns)`,
		"rep→org":                 `SELECT count(*) FROM reps WHERE org_unit_id NOT IN (SELECT org_unit_id FROM org_units)`,
		"rep→manager":             `SELECT count(*) FROM reps WHERE manager_rep_id IS NOT NULL AND manager_rep_id NOT IN (SELECT rep_id FROM reps)`,
		"customer→org":            `SELECT count(*) FROM customers WHERE org_unit_id NOT IN (SELECT org_unit_id FROM org_units)`,
		"customer→rep":            `SELECT count(*) FROM customers WHERE owner_rep_id NOT IN (SELECT rep_id FROM reps)`,
		"org→parent":              `SELECT count(*) FROM org_units c WHERE parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM org_units p WHERE p.org_unit_id = c.parent_id AND p.level || '>' || c.level IN ('company>region', 'region>branch', 'branch>department'))`,
		"partner→branch":          `SELECT count(*) FROM partners p WHERE NOT EXISTS (SELECT 1 FROM org_units o WHERE o.org_unit_id = p.org_unit_id AND o.level = 'branch')`,
		"target→org unit":         `SELECT count(*) FROM targets t WHERE scope <> 'rep' AND NOT EXISTS (SELECT 1 FROM org_units o WHERE o.org_unit_id = t.scope_id AND o.level = t.scope)`,
		"target→rep":              `SELECT count(*) FROM targets t WHERE scope = 'rep' AND scope_id NOT IN (SELECT rep_id FROM reps)`,
		"active rep owns account": `SELECT count(*) FROM customers c JOIN reps r ON r.rep_id = c.owner_rep_id WHERE r.left_on IS NOT NULL`,
		// keys
		"key org_units":          `SELECT count(*) - count(DISTINCT org_unit_id) FROM org_units`,
		"key reps":               `SELECT count(*) - count(DISTINCT rep_id) FROM reps`,
		"key customers":          `SELECT count(*) - count(DISTINCT customer_id) FROM customers`,
		"key opportunities":      `SELECT count(*) - count(DISTINCT opportunity_id) FROM opportunities`,
		"key opportunity_stages": `SELECT count(*) - count(DISTINCT (opportunity_id, stage, entered_at)) FROM opportunity_stages`,
		"key contracts":          `SELECT count(*) - count(DISTINCT contract_id) FROM contracts`,
		"key payments":           `SELECT count(*) - count(DISTINCT payment_id) FROM payments`,
		"key payment_schedule":   `SELECT count(*) - count(DISTINCT (contract_id, due_on)) FROM payment_schedule`,
		"key contract_lines":     `SELECT count(*) - count(DISTINCT (contract_id, line_no)) FROM contract_lines`,
		"key products":           `SELECT count(*) - count(DISTINCT product_id) FROM products`,
		"key partners":           `SELECT count(*) - count(DISTINCT partner_id) FROM partners`,
		"key expenses":           `SELECT count(*) - count(DISTINCT expense_id) FROM expenses`,
		"key activities":         `SELECT count(*) - count(DISTINCT activity_id) FROM activities`,
		"key campaigns":          `SELECT count(*) - count(DISTINCT campaign_id) FROM campaigns`,
		"key targets":            `SELECT count(*) - count(DISTINCT (scope, scope_id, period_start, metric)) FROM targets`,
		"key fx_rates":           `SELECT count(*) - count(DISTINCT (currency, on_date)) FROM fx_rates`,
		"key stages":             `SELECT count(*) - count(DISTINCT stage) FROM stages`,
		"unique customer names":  `SELECT count(*) - count(DISTINCT name) FROM customers`,
		// enums
		"enum org level":       `SELECT count(*) FROM org_units WHERE level NOT IN ('company','region','branch','department')`,
		"enum opp status":      `SELECT count(*) FROM opportunities WHERE status NOT IN ('open','won','lost')`,
		"enum contract status": `SELECT count(*) FROM contracts WHERE status NOT IN ('active','completed','terminated','cancelled')`,
		"enum partner kind":    `SELECT count(*) FROM partners WHERE kind NOT IN ('agent','distributor','reseller')`,
		"enum activity kind":   `SELECT count(*) FROM activities WHERE kind NOT IN ('visit','call','meeting','email','event')`,
		"enum target scope":    `SELECT count(*) FROM targets WHERE scope NOT IN ('company','region','branch','department','rep') OR metric NOT IN ('bookings','collections')`,
		"enum size band":       `SELECT count(*) FROM customers WHERE size_band NOT IN ('micro','small','medium','large','enterprise')`,
		"enum lifecycle":       `SELECT count(*) FROM customers WHERE lifecycle_stage NOT IN ('target','potential','opportunity','transaction','service')`,
		"enum method":          `SELECT count(*) FROM payments WHERE method NOT IN ('bank_transfer','acceptance_bill','cheque','cash','card','online')`,
		"enum currency":        `SELECT count(*) FROM (SELECT currency FROM opportunities UNION ALL SELECT currency FROM contracts UNION ALL SELECT currency FROM payments UNION ALL SELECT currency FROM expenses) WHERE currency NOT IN ('CNY','USD')`,
		"enum source":          `SELECT count(*) FROM (SELECT source FROM customers UNION ALL SELECT source FROM opportunities) WHERE source NOT IN ('referral','campaign','partner','inbound','outbound','exhibition')`,
		"target month bounds":  `SELECT count(*) FROM targets WHERE day(period_start) <> 1 OR period_end <> last_day(period_start)`,
		"fx range":             `SELECT count(*) FROM fx_rates WHERE currency <> 'USD' OR rate_to_base NOT BETWEEN 6.9 AND 7.4`,
		"partner deal via branch": `SELECT count(*) FROM opportunities o JOIN partners p USING (partner_id) JOIN customers c USING (customer_id)
		                            JOIN org_units d ON d.org_unit_id = c.org_unit_id WHERE p.org_unit_id <> d.parent_id`,
		// stage histories
		"history starts at lead": `SELECT count(*) FROM (SELECT opportunity_id, arg_min(stage, entered_at) s, min(entered_at) t FROM opportunity_stages GROUP BY ALL) h
		                            JOIN opportunities o USING (opportunity_id) WHERE h.s <> 'lead' OR h.t <> o.created_at`,
		"history monotone": `SELECT count(*) FROM (SELECT s.entered_at, st.position, lag(st.position) OVER w pp, lag(s.entered_at) OVER w pt
		                      FROM opportunity_stages s JOIN stages st USING (stage) WINDOW w AS (PARTITION BY opportunity_id ORDER BY s.entered_at, st.position))
		                      WHERE pp >= position OR pt > entered_at`,
		"latest stage is current": `SELECT count(*) FROM opportunities o WHERE stage <> (SELECT arg_max(stage, entered_at) FROM opportunity_stages s WHERE s.opportunity_id = o.opportunity_id)`,
		"closed ends won/lost":    `SELECT count(*) FROM opportunities o WHERE status <> 'open' AND (stage <> status OR closed_on <> (SELECT max(entered_at)::DATE FROM opportunity_stages s WHERE s.opportunity_id = o.opportunity_id))`,
		"open has no close":       `SELECT count(*) FROM opportunities WHERE status = 'open' AND (closed_on IS NOT NULL OR stage IN ('won','lost') OR close_reason IS NOT NULL)`,
		"closed has reason":       `SELECT count(*) FROM opportunities WHERE status <> 'open' AND close_reason IS NULL`,
		"probability": `SELECT count(*) FROM opportunities o JOIN stages s USING (stage)
		                WHERE probability NOT BETWEEN 0 AND 100 OR (o.status <> 'open' AND probability <> s.default_probability)
		                   OR abs(probability - s.default_probability) > 10`,
		// money
		"lines sum to amount":   `SELECT count(*) FROM contracts c LEFT JOIN (SELECT contract_id, sum(quantity * unit_price) s FROM contract_lines GROUP BY ALL) l USING (contract_id) WHERE l.s IS DISTINCT FROM c.amount`,
		"schedule sums":         `SELECT count(*) FROM contracts c LEFT JOIN (SELECT contract_id, sum(amount) s, count(*) n FROM payment_schedule GROUP BY ALL) l USING (contract_id) WHERE l.s IS DISTINCT FROM c.amount OR l.n NOT BETWEEN 1 AND 4`,
		"overpaid":              `SELECT count(*) FROM (SELECT contract_id, sum(amount) FILTER (WHERE amount > 0) pos, coalesce(sum(-amount) FILTER (WHERE amount < 0), 0) neg FROM payments GROUP BY ALL) p JOIN contracts c USING (contract_id) WHERE p.pos > c.amount + p.neg`,
		"refund before payment": `SELECT count(*) FROM payments r WHERE amount < 0 AND -amount > (SELECT coalesce(sum(amount), 0) FROM payments p WHERE p.contract_id = r.contract_id AND p.amount > 0 AND p.paid_on <= r.paid_on)`,
		"negative money": `SELECT count(*) FROM (SELECT amount FROM opportunities UNION ALL SELECT amount FROM contracts UNION ALL SELECT amount FROM expenses
		                   UNION ALL SELECT amount FROM payment_schedule UNION ALL SELECT amount FROM targets UNION ALL SELECT unit_price FROM contract_lines
		                   UNION ALL SELECT quantity FROM contract_lines UNION ALL SELECT cost FROM campaigns UNION ALL SELECT list_price FROM products UNION ALL SELECT unit_cost FROM products) WHERE amount < 0`,
		"payment before signing": `SELECT count(*) FROM payments p JOIN contracts c USING (contract_id) WHERE p.paid_on < c.signed_on`,
		"contract dates":         `SELECT count(*) FROM contracts WHERE start_on < signed_on OR end_on < start_on`,
		"cancelled unpaid":       `SELECT count(*) FROM payments JOIN contracts c USING (contract_id) WHERE c.status = 'cancelled'`,
		// time
		"created after stages":  `SELECT count(*) FROM opportunity_stages s JOIN opportunities o USING (opportunity_id) WHERE s.entered_at < o.created_at OR s.entered_at::DATE > coalesce(o.closed_on, {END})`,
		"customer before deals": `SELECT count(*) FROM opportunities o JOIN customers c USING (customer_id) WHERE o.created_at < c.created_at`,
		"after End": `SELECT count(*) FROM (
		      SELECT created_at::DATE d FROM customers UNION ALL SELECT created_at::DATE FROM opportunities UNION ALL SELECT updated_at::DATE FROM opportunities
		      UNION ALL SELECT closed_on FROM opportunities UNION ALL SELECT expected_close_on FROM opportunities WHERE status <> 'open'
		      UNION ALL SELECT entered_at::DATE FROM opportunity_stages UNION ALL SELECT signed_on FROM contracts UNION ALL SELECT start_on FROM contracts
		      UNION ALL SELECT paid_on FROM payments UNION ALL SELECT incurred_on FROM expenses UNION ALL SELECT occurred_at::DATE FROM activities
		      UNION ALL SELECT started_on FROM campaigns UNION ALL SELECT ended_on FROM campaigns UNION ALL SELECT on_date FROM fx_rates
		      UNION ALL SELECT hired_on FROM reps UNION ALL SELECT left_on FROM reps
		   ) WHERE d > {END}`,
		"targets horizon": `SELECT count(*) FROM targets WHERE period_start > {HORIZON}`,
		"rep employed for deal": `SELECT count(*) FROM opportunities o JOIN reps r ON r.rep_id = o.owner_rep_id
		                          WHERE coalesce(o.closed_on, {END}) NOT BETWEEN r.hired_on AND coalesce(r.left_on, {END})`,
		"activity by employed": `SELECT count(*) FROM activities a JOIN reps r USING (rep_id) WHERE a.occurred_at::DATE < r.hired_on OR a.occurred_at::DATE > coalesce(r.left_on, {END})`,
		"fx covers period": `SELECT count(*) FROM (SELECT currency, created_at::DATE d FROM opportunities UNION ALL SELECT currency, signed_on FROM contracts
		                      UNION ALL SELECT currency, paid_on FROM payments UNION ALL SELECT currency, incurred_on FROM expenses) x
		                      WHERE currency = 'USD' AND d < (SELECT min(on_date) FROM fx_rates WHERE currency = 'USD')`,
	}
	for name, q := range zero {
		q = strings.NewReplacer("{END}", end, "{START}", start, "{HORIZON}", horizon).Replace(q)
		if n := q1[int64](t, db, q); n != 0 {
			t.Errorf("%s: %d violations", name, n)
		}
	}
	// every entity has rows; open deals and stages past End only where allowed
	for _, e := range entities {
		if n := q1[int64](t, db, "SELECT count(*) FROM "+e.name); n == 0 {
			t.Errorf("%s is empty", e.name)
		}
	}
	if n := q1[float64](t, db, `SELECT max(amount) FROM opportunities`); n > 50e6 {
		t.Errorf("a deal of %.0f: implausibly large", n)
	}
	if n := q1[int64](t, db, `SELECT count(*) FROM targets WHERE period_start > `+end); n == 0 {
		t.Error("no targets for the coming months")
	}
	refunds := q1[float64](t, db, `SELECT avg((amount < 0)::INT)::DOUBLE FROM payments`)
	if refunds <= 0 || refunds > 0.01 {
		t.Errorf("refund share %.2f%%, want ~0.3%%", 100*refunds)
	}
}

// TestRealism checks the shape the dashboards and models depend on.
func TestRealism(t *testing.T) {
	_, _, db := small(t)
	f := measure(t, db)
	t.Log(f)
	check := func(name string, v, lo, hi float64) {
		if v < lo || v > hi {
			t.Errorf("%s = %.3f, want %.2f..%.2f", name, v, lo, hi)
		}
	}
	check("top-20% share of payments", f.Top20Share, 0.70, 0.90)
	check("win rate", f.WinRate, 0.25, 0.35)
	check("quarter-end / other months", f.QuarterEndRatio, 1.2, 3)
	check("December / next best month", f.DecemberRatio, 1.0, 3)
	check("CNY month / neighbours", f.CNYRatio, 0, 0.85)
	check("opportunity growth YoY", f.YoY, 0.08, 0.30)
	check("partner share", f.PartnerShare, 0.2, 0.35)
	check("USD share", f.USDShare, 0.005, 0.06)
	check("stalled open deals", f.StalledOpenShare, 0.06, 0.2)
	check("duplicate registrations", f.CollisionShare, 0.005, 0.04)
	check("unprofitable paying customers", f.Unprofitable, 0.03, 0.12)
	check("declining customers", f.Declining, 0.015, 0.07)
	if f.DupCustomers < 3 {
		t.Errorf("%d duplicate customer records, want ~0.5%%", f.DupCustomers)
	}
}

func TestLocaleZh(t *testing.T) {
	dir := t.TempDir()
	res, err := Generate(context.Background(), Config{Size: "small", Seed: 3, Locale: "zh"}, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := openGenerated(t, dir, "csv")
	han := func(s string) bool {
		for _, r := range s {
			if unicode.Is(unicode.Han, r) {
				return true
			}
		}
		return false
	}
	for _, q := range []string{
		"SELECT string_agg(name, '|') FROM (SELECT name FROM customers LIMIT 50)",
		"SELECT string_agg(name, '|') FROM (SELECT name FROM reps LIMIT 50)",
		"SELECT string_agg(name, '|') FROM org_units WHERE level = 'region'",
		"SELECT string_agg(DISTINCT city, '|') FROM customers",
		"SELECT string_agg(DISTINCT close_reason, '|') FROM opportunities",
	} {
		s := q1[string](t, db, q)
		for _, part := range strings.Split(s, "|") {
			if !han(part) {
				t.Errorf("%q is not Chinese (%s)", part, q)
				break
			}
		}
	}
	if n := q1[int64](t, db, "SELECT count(*) FROM org_units WHERE name = '华东区'"); n != 1 {
		t.Error("no 华东区")
	}
	if n := q1[int64](t, db, "SELECT count(*) FROM customers WHERE name LIKE '上海%有限公司'"); n == 0 {
		t.Error("no 上海…有限公司 customer")
	}
	// reps: surname + 1-2 character given name
	if n := q1[int64](t, db, "SELECT count(*) FROM reps WHERE length(name) NOT IN (2, 3)"); n != 0 {
		t.Errorf("%d rep names not 2-3 characters", n)
	}
	for _, f := range res.Files {
		if f.Rows == 0 {
			t.Errorf("%s empty", f.Entity)
		}
	}
}

func TestParquet(t *testing.T) {
	_, csvRes, _ := small(t)
	dir := t.TempDir()
	res, err := Generate(context.Background(), Config{Size: "small", Seed: 1, Format: "parquet"}, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 17 {
		t.Fatalf("%d files", len(res.Files))
	}
	db := openGenerated(t, dir, "parquet")
	for i, f := range res.Files {
		if filepath.Ext(f.Path) != ".parquet" {
			t.Errorf("%s written as %s", f.Entity, f.Path)
		}
		n := q1[int64](t, db, "SELECT count(*) FROM "+f.Entity)
		if n != f.Rows || n != csvRes.Files[i].Rows {
			t.Errorf("%s: parquet has %d rows, Result %d, csv %d", f.Entity, n, f.Rows, csvRes.Files[i].Rows)
		}
	}
	// the declared types survive
	typ := q1[string](t, db, "SELECT data_type FROM information_schema.columns WHERE table_name = 'payments' AND column_name = 'amount'")
	if typ != "DECIMAL(18,2)" {
		t.Errorf("payments.amount is %s in parquet", typ)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 17 {
		t.Errorf("%d entries in the output directory, want the 17 parquet files only", len(entries))
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{{Size: "huge"}, {Locale: "fr"}, {Format: "xlsx"}} {
		if _, err := Generate(context.Background(), c, t.TempDir(), nil); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, Config{Size: "small"}, t.TempDir(), nil); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestBrandNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	seenZh := map[string]bool{}
	for u := int64(0); u < 60000; u++ {
		e, z := brandName(u)
		k := strings.ToLower(e)
		if seen[k] || seenZh[z] {
			t.Fatalf("brand %d (%s %s) repeats", u, e, z)
		}
		seen[k], seenZh[z] = true, true
	}
}
