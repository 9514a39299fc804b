package render

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// openpyxlDump is the independent reader: for every sheet, its name, frozen
// cell, charts (type and the references of every series), the header, the
// first data rows as (value, type, number format), the row count and the
// column widths.
const openpyxlDump = `
import json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = []
def val(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v
for ws in wb.worksheets:
    charts = []
    for ch in ws._charts:
        series = []
        for s in ch.series:
            cat = s.cat.strRef.f if s.cat is not None and s.cat.strRef is not None else (s.cat.numRef.f if s.cat is not None and s.cat.numRef is not None else None)
            series.append({"name": s.tx.strRef.f if s.tx is not None and s.tx.strRef is not None else None,
                           "cat": cat, "val": s.val.numRef.f})
        title = "".join(r.t for p in ch.title.tx.rich.p for r in (p.r or [])) if ch.title is not None and ch.title.tx is not None and ch.title.tx.rich is not None else None
        charts.append({"type": type(ch).__name__, "title": title, "series": series})
    rows = []
    for r in ws.iter_rows(min_row=2, max_row=min(ws.max_row, 8)):
        rows.append([[val(c.value), c.data_type, c.number_format] for c in r])
    out.append({"title": ws.title, "freeze": ws.freeze_panes, "charts": charts,
                "header": [c.value for c in ws[1]], "header_bold": all(c.font.b for c in ws[1]),
                "rows": rows, "max_row": ws.max_row,
                "widths": {k: v.width for k, v in ws.column_dimensions.items()}})
print(json.dumps(out, ensure_ascii=False))
`

type dumpChart struct {
	Type   string
	Title  string
	Series []struct{ Name, Cat, Val string }
}

type dumpSheet struct {
	Title      string
	Freeze     string
	Charts     []dumpChart
	Header     []any
	HeaderBold bool `json:"header_bold"`
	Rows       [][][]any
	MaxRow     int `json:"max_row"`
	Widths     map[string]float64
}

func readXLSX(t *testing.T, path string) []dumpSheet {
	t.Helper()
	var out []dumpSheet
	if err := json.Unmarshal(python(t, openpyxlDump, path), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeXLSXFile(t *testing.T, tables []*Table, o XLSXOptions) (string, []Sheet) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.xlsx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets, err := WriteXLSX(f, tables, o)
	if err != nil {
		t.Fatal(err)
	}
	return path, sheets
}

func TestXLSXReadByOpenpyxl(t *testing.T) {
	needOpenpyxl(t)
	at := time.Date(2024, 3, 31, 16, 30, 5, 0, time.UTC)
	long := "华东区/回款明细 [2024年第一季度]: 按客户*统计?（单位：元）"
	payments := &Table{
		Name:    long,
		Columns: testColumns(),
		Rows: SliceRows([][]any{
			{"上海远景科技有限公司", "won", 1234567.891, int64(3), 0.253, "2024-03-31", at, true},
			{"=HYPERLINK(\"http://evil.example\",\"点我\")", "lost", -50.0, int64(-2), -0.1, "2024-01-02", at, false},
			{"+cmd|' /C calc'!A0", "@SUM(A1)", decimal{"-12.30"}, nil, nil, nil, nil, nil},
		}),
		Chart: &Chart{Type: Bar, Title: "各客户金额", Category: "customer", Series: []string{"amount", "deals"}},
	}
	byMonth := &Table{
		Name: long, // the same name again: the sheet gets a suffix
		Columns: []Column{
			{Name: "month", Label: "月份", Kind: Text},
			{Name: "bookings", Label: "签约额", Kind: Money},
			{Name: "target", Label: "目标", Kind: Money},
		},
		Rows:  SliceRows([][]any{{"2024-01", 100.0, 120.0}, {"2024-02", 80.5, 120.0}, {"2024-03", 150.25, 130.0}}),
		Chart: &Chart{Type: Line, Title: "签约额与目标", Category: "month", Series: []string{"bookings", "target"}},
	}
	byLine := &Table{
		Name:    "history", // Excel reserves History
		Columns: []Column{{Name: "product_line", Label: "产品线"}, {Name: "share", Label: "占比", Kind: Percent}},
		Rows:    SliceRows([][]any{{"软件", 0.6}, {"硬件", 0.3}, {"服务", 0.1}}),
		Chart:   &Chart{Type: Pie, Category: "product_line", Series: []string{"share"}},
	}
	path, sheets := writeXLSXFile(t, []*Table{payments, byMonth, byLine}, XLSXOptions{Options: Options{
		Location: shanghai,
		Translate: func(c Column, v any) (string, bool) {
			if c.Name == "stage" {
				s, ok := map[any]string{"won": "赢单", "lost": "输单"}[v]
				return s, ok
			}
			if c.Kind == Bool {
				b, _ := v.(bool)
				return map[bool]string{true: "是", false: "否"}[b], true
			}
			return "", false
		},
	}})
	name1 := "华东区_回款明细 _2024年第一季度__ 按客户_统计_（单"
	name2 := "华东区_回款明细 _2024年第一季度__ 按客户_统 (2)"
	if len(utf16.Encode([]rune(name1))) != 31 || len(utf16.Encode([]rune(name2))) != 31 {
		t.Fatalf("test names are not 31 characters: %d %d", len(utf16.Encode([]rune(name1))), len(utf16.Encode([]rune(name2))))
	}
	wantSheets := []Sheet{
		{Table: long, Name: name1, Rows: 3, Chart: true},
		{Table: long, Name: name2, Rows: 3, Chart: true},
		{Table: "history", Name: "history_", Rows: 3, Chart: true},
	}
	if !reflect.DeepEqual(sheets, wantSheets) {
		t.Fatalf("sheets = %+v\nwant %+v", sheets, wantSheets)
	}

	got := readXLSX(t, path)
	if len(got) != 3 {
		t.Fatalf("openpyxl found %d sheets", len(got))
	}
	for i, s := range got {
		if s.Title != wantSheets[i].Name {
			t.Errorf("sheet %d is %q, want %q (Chinese sheet names round-trip)", i, s.Title, wantSheets[i].Name)
		}
		if s.Freeze != "A2" {
			t.Errorf("sheet %q: frozen at %q, want A2 (the header row)", s.Title, s.Freeze)
		}
		if !s.HeaderBold {
			t.Errorf("sheet %q: header not bold", s.Title)
		}
		if len(s.Charts) != 1 {
			t.Errorf("sheet %q: %d charts, want 1", s.Title, len(s.Charts))
		}
	}

	// Sheet 1: the values, their types and formats.
	s := got[0]
	if want := []any{"客户", "阶段", "金额", "单数", "占比", "签订日期", "付款时间", "已付"}; !reflect.DeepEqual(s.Header, want) {
		t.Errorf("header = %v", s.Header)
	}
	type cell struct {
		v    any
		typ  string
		nfmt string
	}
	check := func(row, col int, want cell) {
		t.Helper()
		c := s.Rows[row][col]
		if fmt.Sprint(c[0]) != fmt.Sprint(want.v) || c[1] != want.typ || (want.nfmt != "" && c[2] != want.nfmt) {
			t.Errorf("row %d col %d = %v (%v, %v), want %v (%v, %v)", row+2, col+1, c[0], c[1], c[2], want.v, want.typ, want.nfmt)
		}
	}
	check(0, 0, cell{"上海远景科技有限公司", "s", ""})
	check(0, 1, cell{"赢单", "s", ""})
	check(0, 2, cell{1234567.891, "n", "#,##0.00"})
	check(0, 3, cell{3, "n", "#,##0"})
	check(0, 4, cell{0.253, "n", "0.0%"})
	check(0, 5, cell{"2024-03-31T00:00:00", "d", "yyyy-mm-dd"})
	check(0, 6, cell{"2024-04-01T00:30:05", "d", "yyyy-mm-dd hh:mm:ss"})
	check(0, 7, cell{"是", "s", ""})
	// A text cell that begins with = is a string, not a formula.
	check(1, 0, cell{"=HYPERLINK(\"http://evil.example\",\"点我\")", "s", ""})
	check(1, 2, cell{-50, "n", "#,##0.00"}) // a negative number is a number
	check(1, 3, cell{-2, "n", "#,##0"})
	check(2, 0, cell{"+cmd|' /C calc'!A0", "s", ""})
	check(2, 1, cell{"@SUM(A1)", "s", ""})
	check(2, 2, cell{-12.3, "n", "#,##0.00"})
	check(2, 3, cell{nil, "n", ""}) // empty
	if s.Widths["A"] < 22 {
		t.Errorf("column A is %.0f wide; the Chinese company name needs 22", s.Widths["A"])
	}

	q := "'" + name1 + "'"
	wantChart := dumpChart{Type: "BarChart", Title: "各客户金额"}
	wantChart.Series = append(wantChart.Series,
		struct{ Name, Cat, Val string }{q + "!$C$1", q + "!$A$2:$A$4", q + "!$C$2:$C$4"},
		struct{ Name, Cat, Val string }{q + "!$D$1", q + "!$A$2:$A$4", q + "!$D$2:$D$4"})
	if !reflect.DeepEqual(s.Charts[0], wantChart) {
		t.Errorf("chart = %+v\nwant %+v", s.Charts[0], wantChart)
	}
	if c := got[1].Charts[0]; c.Type != "LineChart" || c.Title != "签约额与目标" || len(c.Series) != 2 ||
		c.Series[1].Val != "'"+name2+"'!$C$2:$C$4" {
		t.Errorf("line chart = %+v", c)
	}
	if c := got[2].Charts[0]; c.Type != "PieChart" || c.Title != "history" || len(c.Series) != 1 ||
		c.Series[0].Cat != "'history_'!$A$2:$A$4" {
		t.Errorf("pie chart = %+v", c)
	}
}

func TestXLSXSplitsSheetsAtTheRowLimit(t *testing.T) {
	needOpenpyxl(t)
	if MaxSheetRows != 1048575 {
		t.Fatalf("MaxSheetRows = %d", MaxSheetRows)
	}
	var rows [][]any
	for i := range 10 {
		rows = append(rows, []any{fmt.Sprintf("第%d行", i+1), float64(i)})
	}
	tb := &Table{Name: "明细", Columns: []Column{{Name: "k", Label: "键"}, {Name: "v", Label: "值", Kind: Number}},
		Rows: SliceRows(rows), Chart: &Chart{Type: Bar, Category: "k", Series: []string{"v"}}}
	path, sheets := writeXLSXFile(t, []*Table{tb}, XLSXOptions{MaxRowsPerSheet: 4})
	want := []Sheet{{"明细", "明细", 4, true}, {"明细", "明细 (2)", 4, false}, {"明细", "明细 (3)", 2, false}}
	if !reflect.DeepEqual(sheets, want) {
		t.Fatalf("sheets = %+v", sheets)
	}
	got := readXLSX(t, path)
	next := 1
	for i, s := range got {
		if s.Title != want[i].Name || s.MaxRow != int(want[i].Rows)+1 || s.Freeze != "A2" ||
			!reflect.DeepEqual(s.Header, []any{"键", "值"}) {
			t.Errorf("sheet %d: %q, %d rows, frozen %q, header %v", i, s.Title, s.MaxRow, s.Freeze, s.Header)
		}
		if len(s.Charts) != map[bool]int{true: 1, false: 0}[i == 0] {
			t.Errorf("sheet %q has %d charts", s.Title, len(s.Charts))
		}
		for _, r := range s.Rows {
			if r[0][0] != fmt.Sprintf("第%d行", next) {
				t.Errorf("sheet %q: row %v, want 第%d行 (rows in order, none lost)", s.Title, r[0][0], next)
			}
			next++
		}
	}
	if next != 11 {
		t.Errorf("read back %d rows, want 10", next-1)
	}
}

func TestSheetNames(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "Sheet",
		"  ":                    "Sheet",
		"a/b\\c[d]e:f*g?h":      "a_b_c_d_e_f_g_h",
		"'quoted'":              "quoted",
		"HISTORY":               "HISTORY_",
		"tab\there":             "tab_here",
		strings.Repeat("客", 40): strings.Repeat("客", 31),
		strings.Repeat("😀", 20): strings.Repeat("😀", 15), // two UTF-16 units each
	} {
		if got := sheetName(in); got != want {
			t.Errorf("sheetName(%q) = %q, want %q", in, got, want)
		}
	}
	u := sheetNames{}
	for _, c := range []struct {
		base string
		from int
		want string
	}{
		{"Sales", 1, "Sales"},
		{"sales", 1, "sales (2)"}, // Excel ignores case
		{"Sales", 2, "Sales (3)"},
		{strings.Repeat("额", 31), 1, strings.Repeat("额", 31)},
		{strings.Repeat("额", 31), 1, strings.Repeat("额", 27) + " (2)"},
	} {
		if got := u.unique(c.base, c.from); got != c.want {
			t.Errorf("unique(%q, %d) = %q, want %q", c.base, c.from, got, c.want)
		}
	}
}

// Excel holds at most 32,767 UTF-16 code units in a cell and calls a file
// with a longer one damaged: a longer text is cut, with an ellipsis.
func TestXLSXCutsTextToWhatACellHolds(t *testing.T) {
	needOpenpyxl(t)
	long := strings.Repeat("a𠀀长", 20000) // 4 code units a repeat: 80,000
	tb := &Table{Name: "t", Columns: []Column{{Name: "s", Label: "s"}}, Rows: SliceRows([][]any{{long}, {"short"}})}
	path, _ := writeXLSXFile(t, []*Table{tb}, XLSXOptions{})
	out := python(t, `
import sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1]).active
v = ws.cell(row=2, column=1).value
print(len(v.encode("utf-16-le")) // 2, v.endswith("…"), ws.cell(row=3, column=1).value)
print(v[:-1])`, path)
	head, rest, _ := strings.Cut(string(out), "\n")
	var units int
	var ellipsis, short string
	fmt.Sscan(head, &units, &ellipsis, &short)
	// 32,766 when the next character needs two code units.
	if units < 32766 || units > 32767 || ellipsis != "True" || short != "short" {
		t.Errorf("the long cell: %s (want 32,767 code units at most, ending with …)", head)
	}
	if !strings.HasPrefix(long, strings.TrimRight(rest, "\n")) {
		t.Error("the cut cell is not the start of the text")
	}
}
