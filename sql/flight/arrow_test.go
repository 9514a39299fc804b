package flight

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/triscope/triscope/query/adhoc"
)

// The worker's JSON values become Arrow values of the column's type: exact
// decimals, dates, instants in UTC with the session zone on the type,
// NaN, lists and structs as JSON text, blobs from base64, NULLs.
func TestRowsToArrow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	cols := []adhoc.Column{{Name: "i", Type: "BIGINT"}, {Name: "d", Type: "DECIMAL(18,2)"}, {Name: "h", Type: "HUGEINT"},
		{Name: "f", Type: "DOUBLE"}, {Name: "day", Type: "DATE"}, {Name: "ts", Type: "TIMESTAMP WITH TIME ZONE"},
		{Name: "naive", Type: "TIMESTAMP"}, {Name: "b", Type: "BOOLEAN"}, {Name: "l", Type: "INTEGER[]"}, {Name: "blob", Type: "BLOB"},
		{Name: "s", Type: "VARCHAR"}, {Name: "tm", Type: "TIME"}, {Name: "u", Type: "UBIGINT"}}
	schema := Schema(cols, "Asia/Shanghai")
	loc, _ := time.LoadLocation("Asia/Shanghai")
	bt := newBatcher(mem, schema, loc)
	defer bt.release()
	rows := [][]any{
		{json.Number("42"), json.Number("1234.50"), json.Number("99999999999999999999999999999999999999"), json.Number("0.25"),
			"2025-01-02", "2025-01-02T08:30:00+08:00", "2025-01-02 08:30:00", true, []any{json.Number("1"), json.Number("2")},
			"AAEC", "客户 ~R1~", "13:45:30.5", json.Number("18446744073709551615")},
		{nil, nil, nil, "NaN", nil, nil, nil, nil, nil, nil, nil, nil, nil},
	}
	for _, r := range rows {
		if err := bt.add(r); err != nil {
			t.Fatal(err)
		}
	}
	rec := bt.flush()
	defer rec.Release()
	if rec.NumRows() != 2 {
		t.Fatalf("%d rows", rec.NumRows())
	}
	if v := rec.Column(0).(*array.Int64).Value(0); v != 42 {
		t.Errorf("bigint %d", v)
	}
	if v := rec.Column(1).(*array.Decimal128); v.Value(0).ToString(2) != "1234.50" {
		t.Errorf("decimal %s", v.Value(0).ToString(2))
	}
	if v := rec.Column(2).(*array.Decimal128); v.Value(0).ToString(0) != "99999999999999999999999999999999999999" {
		t.Errorf("hugeint %s", v.Value(0).ToString(0))
	}
	if v := rec.Column(3).(*array.Float64); v.Value(0) != 0.25 || !math.IsNaN(v.Value(1)) {
		t.Errorf("double %v %v", v.Value(0), v.Value(1))
	}
	if v := rec.Column(4).(*array.Date32).Value(0).ToTime(); v.Format(time.DateOnly) != "2025-01-02" {
		t.Errorf("date %v", v)
	}
	ts := rec.Column(5).(*array.Timestamp)
	if tt := ts.DataType().(*arrow.TimestampType); tt.TimeZone != "Asia/Shanghai" || time.UnixMicro(int64(ts.Value(0))).UTC().Format(time.RFC3339) != "2025-01-02T00:30:00Z" {
		t.Errorf("timestamptz %v %v", tt, time.UnixMicro(int64(ts.Value(0))).UTC())
	}
	if v := time.UnixMicro(int64(rec.Column(6).(*array.Timestamp).Value(0))).UTC(); v.Format("15:04") != "08:30" {
		t.Errorf("timestamp %v", v)
	}
	if !rec.Column(7).(*array.Boolean).Value(0) || rec.Column(8).(*array.String).Value(0) != "[1,2]" {
		t.Errorf("bool or list: %v", rec)
	}
	if v := rec.Column(9).(*array.Binary).Value(0); len(v) != 3 || v[2] != 2 {
		t.Errorf("blob %v", v)
	}
	if rec.Column(10).(*array.String).Value(0) != "客户 ~R1~" || rec.Column(12).(*array.Uint64).Value(0) != math.MaxUint64 {
		t.Errorf("text or ubigint")
	}
	if us := int64(rec.Column(11).(*array.Time64).Value(0)); us != (13*3600+45*60+30)*1e6+500000 {
		t.Errorf("time %d", us)
	}
	for c := 0; c < int(rec.NumCols()); c++ {
		if c != 3 && !rec.Column(c).IsNull(1) {
			t.Errorf("column %d: NULL lost", c)
		}
	}
	if err := bt.add([]any{"not a number", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}); err == nil {
		t.Error("a bad value was accepted")
	}
}

func TestLikePatterns(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{{"%", "customers", true}, {"cust%", "customers", true}, {"cust_mers", "customers", true}, {"mart\\_%", "mart_rfm", true},
		{"mart\\_%", "martxrfm", false}, {"CUSTOMERS", "customers", true}, {"c.*", "customers", false}} {
		if likeRE(c.p).MatchString(c.s) != c.ok {
			t.Errorf("%q LIKE %q: want %v", c.s, c.p, c.ok)
		}
	}
}
