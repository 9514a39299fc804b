package etl

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseAmount(t *testing.T) {
	dot, comma, xl := &valueOpts{}, &valueOpts{decimalComma: true}, &valueOpts{excel: true}
	cases := []struct {
		in   string
		o    *valueOpts
		want string // canonical value, or "!" + a substring of the problem
	}{
		{"1234.56", dot, "1234.56"}, {"1,234.56", dot, "1234.56"}, {"¥1,234.56", dot, "1234.56"}, {"￥1,234.56", dot, "1234.56"},
		{"$300", dot, "300"}, {"(50)", dot, "-50"}, {"（50）", dot, "-50"}, {"１２３．４５", dot, "123.45"}, {"-0.50", dot, "-0.5"},
		{"1 234.50", dot, "1234.5"}, {"1\u00a0234", dot, "1234"}, {"CNY 100", dot, "100"}, {"100元", dot, "100"}, {"+7", dot, "7"},
		{"−5", dot, "-5"}, {"0", dot, "0"}, {"-0", dot, "0"}, {".5", dot, "0.5"}, {"007", dot, "7"},
		{"1.234,56", comma, "1234.56"}, {"1 234,56", comma, "1234.56"}, {"-99,5", comma, "-99.5"},
		{"1234.5599999999999", xl, "1234.56"}, {"0.30000000000000004", xl, "0.3"}, {"1.5E+5", xl, "150000"},
		{"1,23", dot, "!ambiguous comma"}, {"12,34,567.00", dot, "!misplaced thousands separator"}, {"10.005", dot, "!has 3 decimals"},
		{"1.5E+5", dot, "!scientific notation"}, {"=SUM(A1)", dot, "!spreadsheet formula"}, {"50-", dot, "!trailing minus"},
		{"(-50)", dot, "!sign inside parentheses"}, {"abc", dot, "!not a number"}, {"1.2.3", dot, "!more than one decimal point"},
		{"1,234.56", comma, "!thousands separator after the decimal point"}, {"15%", dot, "!percentage"},
		{"12345678901234567", dot, "!too large"}, {"1,234,5", dot, "!misplaced"},
	}
	for _, c := range cases {
		got, p := parseNumber(c.in, 2, 16, false, c.o)
		if strings.HasPrefix(c.want, "!") {
			if p == "" || !strings.Contains(string(p), c.want[1:]) {
				t.Errorf("%q: got %q, problem %q; want a problem containing %q", c.in, got, p, c.want[1:])
			}
			continue
		}
		if p != "" || got != c.want {
			t.Errorf("%q: got %q (%s), want %q", c.in, got, p, c.want)
		}
	}
	// Percentages.
	for _, c := range []struct {
		in       string
		fraction bool
		want     string
	}{{"60%", false, "60"}, {"60 %", false, "60"}, {"0.6", true, "60"}, {"1", true, "100"}, {"0.125", true, "12.5"}, {"60%", true, "60"}, {"60", false, "60"}} {
		got, p := parseNumber(c.in, 2, 16, true, &valueOpts{fraction: c.fraction})
		if p != "" || got != c.want {
			t.Errorf("percent %q fraction=%v: %q %s, want %q", c.in, c.fraction, got, p, c.want)
		}
	}
}

func TestParseDates(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	sh, _ := time.LoadLocation("Asia/Shanghai")
	cases := []struct {
		in   string
		o    *valueOpts
		want string
	}{
		{"2024-01-05", &valueOpts{}, "2024-01-05"}, {"2024/1/5", &valueOpts{}, "2024-01-05"}, {"2024年1月5日", &valueOpts{}, "2024-01-05"},
		{"2024年1月5号", &valueOpts{}, "2024-01-05"}, {"20240105", &valueOpts{}, "2024-01-05"}, {"2024.1.5", &valueOpts{}, "2024-01-05"},
		{"05-Jan-2024", &valueOpts{}, "2024-01-05"}, {"2024-January-05", &valueOpts{}, "2024-01-05"}, {"２０２４／０１／０５", &valueOpts{}, "2024-01-05"},
		{"05/01/2024", &valueOpts{dateOrder: "DMY"}, "2024-01-05"}, {"01/05/2024", &valueOpts{dateOrder: "MDY"}, "2024-01-05"},
		{"2024-01-05 00:00:00", &valueOpts{}, "2024-01-05"}, {"2024-01-05T00:00:00Z", &valueOpts{}, "2024-01-05"},
		{"45296", &valueOpts{excel: true}, "2024-01-05"}, {"59", &valueOpts{excel: true}, "1900-02-28"}, {"61", &valueOpts{excel: true}, "1900-03-01"},
		{"1", &valueOpts{excel: true}, "1900-01-01"}, {"43834", &valueOpts{excel: true, date1904: true}, "2024-01-05"},
		{"05.01.2024", &valueOpts{layouts: []string{"02.01.2006"}}, "2024-01-05"},
		{"05/01/2024", &valueOpts{}, "!ambiguous date"}, {"5/1/24", &valueOpts{}, "!two-digit year"}, {"2024-02-30", &valueOpts{}, "!does not exist"},
		{"2024-13-01", &valueOpts{}, "!does not exist"}, {"2024-01-05 10:30", &valueOpts{}, "!time of day"}, {"60", &valueOpts{excel: true}, "!1900-02-29"},
		{"0", &valueOpts{excel: true}, "!1900-01-00"}, {"yesterday", &valueOpts{}, "!not a date"}, {"=TODAY()", &valueOpts{}, "!formula"},
		{"45296", &valueOpts{}, "!not a date"}, {"2024-01", &valueOpts{}, "!not a date"},
	}
	for _, c := range cases {
		got, p := parseDate(c.in, c.o)
		check(t, "date", c.in, got, p, c.want)
	}
	ts := []struct {
		in   string
		o    *valueOpts
		want string
	}{
		{"2024-01-05 09:30", &valueOpts{}, "2024-01-05 09:30:00"}, {"2024-01-05T09:30:00+08:00", &valueOpts{}, "2024-01-05 09:30:00+08:00"},
		{"2024-01-05 09:30:00.125Z", &valueOpts{}, "2024-01-05 09:30:00.125+00:00"}, {"2024-01-05 09:30:00+0530", &valueOpts{}, "2024-01-05 09:30:00+05:30"},
		{"2024-01-05 09:30:00-05", &valueOpts{}, "2024-01-05 09:30:00-05:00"}, {"2024/1/5 9:30 PM", &valueOpts{}, "2024-01-05 21:30:00"},
		{"2024/1/5 12:05 AM", &valueOpts{}, "2024-01-05 00:05:00"}, {"2024-01-05", &valueOpts{}, "2024-01-05 00:00:00"},
		{"2024-01-05 09:30", &valueOpts{loc: sh}, "2024-01-05 09:30:00+08:00"}, {"2024-07-05 09:30", &valueOpts{loc: ny}, "2024-07-05 09:30:00-04:00"},
		{"2024-01-05 09:30", &valueOpts{loc: ny}, "2024-01-05 09:30:00-05:00"}, {"45296.75", &valueOpts{excel: true}, "2024-01-05 18:00:00"},
		{"2024-03-10 02:30", &valueOpts{loc: ny}, "!daylight saving gap"}, {"2024-01-05 25:00", &valueOpts{}, "!out of range"},
		{"2024-01-05 24:00", &valueOpts{}, "!24:00"}, {"2024-01-05 10:00+15:00", &valueOpts{}, "!offset out of range"}, {"2024-01-05 9", &valueOpts{}, "!not a time"},
	}
	for _, c := range ts {
		got, p := parseTimestamp(c.in, c.o)
		check(t, "timestamp", c.in, got, p, c.want)
	}
}

func check(t *testing.T, kind, in, got string, p problem, want string) {
	t.Helper()
	if strings.HasPrefix(want, "!") {
		if p == "" || !strings.Contains(string(p), want[1:]) {
			t.Errorf("%s %q: got %q, problem %q; want a problem containing %q", kind, in, got, p, want[1:])
		}
		return
	}
	if p != "" || got != want {
		t.Errorf("%s %q: got %q (%s), want %q", kind, in, got, p, want)
	}
}

func TestHeaderCanonicalForm(t *testing.T) {
	for in, want := range map[string]string{"Customer ID": "customer_id", "客户编号*": "客户编号", "金额(元)": "金额", "金额（元）": "金额",
		"Probability (%)": "probability", " PAID-ON ": "paid_on", "Close Value": "close_value", "合同金额(万元)": "合同金额(万元)"} {
		if got := canonHeader(in); got != want {
			t.Errorf("canonHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

// Within an entity, an alias names one column only, and never another column's name.
func TestAliasesAreUnambiguous(t *testing.T) {
	for _, e := range Entities {
		owner := map[string]string{}
		for _, c := range e.Columns {
			owner[c.Name] = c.Name
		}
		for _, c := range e.Columns {
			for _, a := range c.Aliases {
				if prev, ok := owner[a]; ok && prev != c.Name {
					t.Errorf("%s: alias %q of %s is also %s", e.Name, a, c.Name, prev)
				}
				owner[a] = c.Name
			}
		}
	}
	// Every contract column has at least one Chinese alias.
	for _, e := range Entities {
		name := e.Name
		for _, c := range e.Columns {
			hasCJK := false
			for _, a := range c.Aliases {
				for _, r := range a {
					if r >= 0x4e00 && r <= 0x9fff {
						hasCJK = true
					}
				}
			}
			if !hasCJK {
				t.Errorf("%s.%s has no Chinese alias", name, c.Name)
			}
		}
	}
}

func TestEntityFromNames(t *testing.T) {
	for in, want := range map[string]string{"payments.csv": "payments", "payments_2024-10.csv": "payments", "回款2024.csv": "payments",
		"回款计划.xlsx": "payment_schedule", "商机列表.csv": "opportunities", "客户.csv": "customers", "paymentsx.csv": "", "合同明细.csv": "contract_lines"} {
		if got := entityFromFileName(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

func TestMappingErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"", "empty"},
		{"files:\n  - match: a.csv\n    entity: paymets\n", `unknown entity "paymets"`},
		{"files:\n  - match: a.csv\n    entity: payments\n    colums: {a: amount}\n", "field colums not found"},
		{"files:\n  - match: a.csv\n    entity: payments\n    columns: {a: amont}\n", `"amont" is not a column of payments`},
		{"files:\n  - match: a.csv\n    entity: payments\n    columns: {a: amount, b: amount}\n", "map to amount"},
		{"files:\n  - match: a.csv\n    entity: opportunities\n    values: {status: {赢: winner}}\n", "status must be one of open, won, lost"},
		{"files:\n  - match: a.csv\n    entity: payments\n    percent_as_fraction: [amount]\n", "amount is not a percentage column"},
		{"timezone: Mars/Olympus\n", "not a known time zone"},
		{"date_order: YDM\n", "date_order"},
		{"mode: full\n", `mode "full"`},
		{"encoding: ebcdic\n", `encoding "ebcdic" is not supported`},
		{"files:\n  - entity: payments\n", "give match"},
		{"files:\n  - match: a.csv\n    table: x\n", "belong under tables"},
		{"tables:\n  - entity: payments\n", "give either table or query"},
		{"tables:\n  - table: x\n", "a table rule needs entity"},
		{"files:\n  - match: a.csv\n    columns: {a: amount}\n", "need the rule's entity"},
		{"date_formats: ['%Q']\n", "%Q is not supported"},
	}
	for _, c := range cases {
		_, err := ParseMapping([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want %q", c.yaml, err, c.want)
		}
	}
	m, err := ParseMapping([]byte("files:\n  - match: \"回款*.csv\"\n    entity: payments\n  - match: book.xlsx\n    sheet: \"商机*\"\n    entity: opportunities\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r := m.ruleFor("/x/回款2024.CSV", ""); r == nil || r.Entity != "payments" {
		t.Errorf("回款2024.CSV: %+v", r)
	}
	if r := m.ruleFor("/x/book.xlsx", "商机列表"); r == nil || r.Entity != "opportunities" {
		t.Errorf("book.xlsx#商机列表: %+v", r)
	}
	if r := m.ruleFor("/x/book.xlsx", "客户"); r != nil {
		t.Errorf("book.xlsx#客户 matched %+v", r)
	}
}

// The currency parser returns three capital letters as they are; the only
// currency word of that shape must be the one it checks for.
func TestCurrencyFastPath(t *testing.T) {
	for k := range currencyWords {
		u := strings.ToUpper(k)
		if len(u) == 3 && strings.Trim(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" && u != "RMB" {
			t.Errorf("currency word %q would be skipped by the fast path in colPlan.build", k)
		}
	}
}

// TestDateMemo: a workbook's date column converts each distinct value once;
// what it gives, problems and drift counts included, is what converting
// every value gives.
func TestDateMemo(t *testing.T) {
	ent, _ := EntityByName("payments")
	c, _ := ent.Column("paid_on")
	vals := []string{"45296", "45296", "45296.5", "60", "60", "0", "#N/A", "#N/A", "2024-01-05", "2024/1/5", "2024/1/5", "abc", "abc", "45296", "2958466", " 45296"}
	for _, date1904 := range []bool{false, true} {
		set := &settings{defaults: map[string]string{}, opts: valueOpts{excel: true, date1904: date1904}}
		memo, plain := &colPlan{col: c}, &colPlan{col: c}
		for _, p := range []*colPlan{memo, plain} {
			if err := p.build(ent, set, nil, false); err != nil {
				t.Fatal(err)
			}
		}
		if memo.memo == nil {
			t.Fatal("no memo for a workbook's dates")
		}
		plain.memo = nil
		for _, v := range vals {
			gm, pm := memo.convert(v, true)
			gp, pp := plain.convert(v, true)
			if gm != gp || pm != pp {
				t.Errorf("%q: memo %v %q, plain %v %q", v, gm, pm, gp, pp)
			}
		}
		if memo.nonEmpty != plain.nonEmpty || memo.failed != plain.failed || !slices.Equal(memo.examples, plain.examples) {
			t.Errorf("counts: memo %d/%d %v, plain %d/%d %v", memo.nonEmpty, memo.failed, memo.examples, plain.nonEmpty, plain.failed, plain.examples)
		}
	}
}
