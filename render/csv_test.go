package render

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNeutraliseCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "",
		"华东":                              "华东",
		"=HYPERLINK(\"http://x\",\"点我\")": "'=HYPERLINK(\"http://x\",\"点我\")",
		"+cmd|' /C calc'!A0":              "'+cmd|' /C calc'!A0",
		"-2+3":                            "'-2+3",
		"@SUM(A1:A9)":                     "'@SUM(A1:A9)",
		"\t=1+1":                          "'\t=1+1",
		"\r=1+1":                          "'\r=1+1",
		"\t5":                             "'\t5",
		"-":                               "'-",
		"+":                               "'+",
		"-50":                             "-50", // numbers stay numbers
		"+3.5":                            "+3.5",
		"-1.25e3":                         "-1.25e3",
		"-.5":                             "-.5",
		"-0x1p3":                          "'-0x1p3", // Go would parse it; a spreadsheet would not
		"-Inf":                            "'-Inf",
		"-1,234.50":                       "'-1,234.50",
		"=1":                              "'=1",
		"a=b":                             "a=b",
		" =1":                             " =1",
		"50-":                             "50-",
	} {
		if got := NeutraliseCell(in); got != want {
			t.Errorf("NeutraliseCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// decimal is what duckdb.Decimal looks like to render.
type decimal struct{ s string }

func (d decimal) Float64() float64 {
	f, _ := new(big.Float).SetString(d.s)
	x, _ := f.Float64()
	return x
}
func (d decimal) String() string { return d.s }

func testColumns() []Column {
	return []Column{
		{Name: "customer", Label: "客户", Kind: Text},
		{Name: "stage", Label: "阶段", Kind: Text},
		{Name: "amount", Label: "金额", Kind: Money},
		{Name: "deals", Label: "单数", Kind: Integer},
		{Name: "share", Label: "占比", Kind: Percent},
		{Name: "signed_on", Label: "签订日期", Kind: Date},
		{Name: "paid_at", Label: "付款时间", Kind: Time},
		{Name: "paid", Label: "已付", Kind: Bool},
	}
}

var shanghai = time.FixedZone("CST", 8*3600)

func TestCSVReadBack(t *testing.T) {
	at := time.Date(2024, 3, 31, 16, 30, 5, 0, time.UTC) // 2024-04-01 00:30:05 in Shanghai
	rows := [][]any{
		{"上海远景科技有限公司", "won", 1234567.891, int64(3), 0.253, "2024-03-31", at, true},
		{"=HYPERLINK(\"http://evil.example\",\"点我\")", "lost", -50.0, int64(-2), -0.1, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), at, false},
		{"+cmd|' /C calc'!A0", "=1+1", decimal{"-12.30"}, big.NewInt(7), "0.5", "2024-02-29", "2024-02-29T10:00:00+08:00", "true"},
		{"@SUM(A1)", nil, math.NaN(), nil, nil, nil, nil, nil},
		{"a,b \"quoted\"\nnext line", "open", "-0.005", uint8(9), float32(0.25), "2024-12-31", at, true},
		{"-1+1", "open", "not a number", int64(0), 0.0, "someday", "never", "maybe"},
	}
	tb := &Table{Name: "付款", Columns: testColumns(), Rows: SliceRows(rows)}
	var buf bytes.Buffer
	n, err := WriteCSV(&buf, tb, Options{
		Location: shanghai,
		Translate: func(c Column, v any) (string, bool) {
			if c.Name != "stage" {
				return "", false
			}
			s, _ := v.(string)
			label, ok := map[string]string{"won": "赢单", "lost": "输单", "open": "进行中"}[s]
			if !ok && s != "" {
				return s, true // a translator's output is neutralised too
			}
			return label, ok
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(rows)) {
		t.Fatalf("WriteCSV wrote %d rows, want %d", n, len(rows))
	}
	raw := buf.Bytes()
	if !bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("no UTF-8 byte-order mark: % x", raw[:8])
	}
	r := csv.NewReader(bytes.NewReader(raw[3:]))
	got, err := r.ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv cannot read it back: %v", err)
	}
	want := [][]string{
		{"客户", "阶段", "金额", "单数", "占比", "签订日期", "付款时间", "已付"},
		{"上海远景科技有限公司", "赢单", "1234567.89", "3", "0.253", "2024-03-31", "2024-04-01 00:30:05", "true"},
		{"'=HYPERLINK(\"http://evil.example\",\"点我\")", "输单", "-50.00", "-2", "-0.1", "2024-01-02", "2024-04-01 00:30:05", "false"},
		{"'+cmd|' /C calc'!A0", "'=1+1", "-12.30", "7", "0.5", "2024-02-29", "2024-02-29 10:00:00", "true"},
		{"'@SUM(A1)", "", "", "", "", "", "", ""},
		{"a,b \"quoted\"\nnext line", "进行中", "-0.005", "9", "0.25", "2024-12-31", "2024-04-01 00:30:05", "true"},
		{"'-1+1", "进行中", "not a number", "0", "0", "someday", "never", "maybe"},
	}
	if !reflect.DeepEqual(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w []string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("record %d:\n got %q\nwant %q", i, g, w)
			}
		}
	}
	// RFC 4180: CRLF is not required by encoding/csv, but quoting is: the
	// embedded comma, quote and newline survive (checked above); negative
	// numbers are written as numbers, not as text.
	if strings.Contains(string(raw), "'-50") || strings.Contains(string(raw), "'-2,") {
		t.Error("a negative number was written as text")
	}
}

func TestCSVRowsErrorsStopTheWriter(t *testing.T) {
	boom := errors.New("connection lost")
	i := 0
	rows := RowsFunc(func() ([]any, error) {
		i++
		if i > 2 {
			return nil, boom
		}
		return []any{"x"}, nil
	}).Rows()
	n, err := WriteCSV(io.Discard, &Table{Name: "t", Columns: []Column{{Name: "a"}}, Rows: rows}, Options{})
	if !errors.Is(err, boom) || n != 2 {
		t.Fatalf("WriteCSV = %d, %v; want 2, %v", n, err, boom)
	}
	_, err = WriteCSV(io.Discard, &Table{Name: "t", Columns: []Column{{Name: "a"}, {Name: "b"}}, Rows: SliceRows([][]any{{"x"}})}, Options{})
	if err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Fatalf("a short row: %v", err)
	}
	_, err = WriteCSV(io.Discard, &Table{Name: "t", Columns: []Column{{Name: "a", Kind: "currency"}}, Rows: SliceRows(nil)}, Options{})
	if err == nil {
		t.Fatal("an unknown kind was accepted")
	}
}

func TestCents(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int64
	}{
		{2.675, 268}, {-2.675, -268}, {0.005, 1}, {-0.005, -1}, {0.0049, 0}, {1234567.891, 123456789},
		{"0.10", 10}, {"-12.345", -1235}, {decimal{"99999999999999.99"}, 9999999999999999}, {int64(-7), -700},
		{0.1 + 0.2, 30}, {1e15, 1e17},
	} {
		n, ok := toNum(c.v)
		if !ok {
			t.Errorf("%v is not a number", c.v)
			continue
		}
		if got, ok := n.cents(); !ok || got != c.want {
			t.Errorf("cents(%v) = %d, %v; want %d", c.v, got, ok, c.want)
		}
	}
}
