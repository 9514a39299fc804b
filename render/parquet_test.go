package render

import (
	"bufio"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// TestParquetReadByDuckDB writes more rows than an Excel sheet holds and
// reads them back with DuckDB's read_parquet: the same row count, the
// declared types, exact money sums, the values of chosen rows and NULLs.
func TestParquetReadByDuckDB(t *testing.T) {
	const n = MaxSheetRows + 50_000 // no 1,048,575-row cap
	path := filepath.Join(t.TempDir(), "feed.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 31, 16, 30, 5, 123456000, time.UTC)
	i := 0
	row := make([]any, 8)
	var wantCents int64
	rows := RowsFunc(func() ([]any, error) {
		if i == n {
			return nil, io.EOF
		}
		i++
		switch i {
		case 1:
			copy(row, []any{"上海远景科技有限公司", "won", 1234567.891, int64(3), 0.253, "2024-03-31", at, true})
			wantCents += 123456789
		case 2:
			copy(row, []any{"=HYPERLINK(\"x\")", nil, decimal{"-12.30"}, nil, nil, nil, nil, nil})
			wantCents -= 1230
		case 3:
			copy(row, []any{"0.1+0.2", "open", "0.10", uint16(7), "0.5", at, "2024-02-29T10:00:00+08:00", "false"})
			wantCents += 10
		default:
			row[0] = "客户"
			row[1] = "lost"
			row[2] = 0.2 // a DOUBLE sum would drift; DECIMAL stays exact
			row[3] = int64(i)
			row[4] = 0.5
			row[5] = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%1000)
			row[6] = at.Add(time.Duration(i) * time.Second)
			row[7] = i%2 == 0
			wantCents += 20
		}
		return row, nil
	}).Rows()
	bw := bufio.NewWriter(f)
	got, err := WriteParquet(bw, &Table{Name: "payments", Columns: testColumns(), Rows: rows}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("WriteParquet wrote %d rows, want %d", got, n)
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("SET TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	// The path holds no glob characters (t.TempDir); read_parquet takes a pattern.
	src := "read_parquet('" + strings.ReplaceAll(path, "'", "''") + "')"
	types := map[string]string{}
	rs, err := db.Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " + src + ")")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var name, typ string
		if err := rs.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		types[name] = typ
	}
	rs.Close()
	for name, want := range map[string]string{
		"customer": "VARCHAR", "stage": "VARCHAR", "amount": "DECIMAL(18,2)", "deals": "BIGINT",
		"share": "DOUBLE", "signed_on": "DATE", "paid_at": "TIMESTAMP WITH TIME ZONE", "paid": "BOOLEAN",
	} {
		if types[name] != want {
			t.Errorf("column %s is %q in DuckDB, want %s", name, types[name], want)
		}
	}

	var count, cents, nulls int64
	if err := db.QueryRow("SELECT count(*), CAST(sum(amount) * 100 AS BIGINT), count(*) FILTER (WHERE stage IS NULL) FROM "+src).
		Scan(&count, &cents, &nulls); err != nil {
		t.Fatal(err)
	}
	if count != n || cents != wantCents || nulls != 1 {
		t.Errorf("DuckDB reads %d rows, sum(amount) %d cents, %d NULL stages; want %d, %d, 1", count, cents, nulls, n, wantCents)
	}
	var (
		customer, amount, signed, paidAt string
		deals                            sql.NullInt64
		share                            float64
		paid                             bool
	)
	if err := db.QueryRow(`SELECT customer, CAST(amount AS VARCHAR), deals, share, CAST(signed_on AS VARCHAR),
			strftime(paid_at, '%Y-%m-%d %H:%M:%S.%f'), paid FROM (SELECT *, row_number() OVER () AS r FROM `+src+`) WHERE r = 1`).
		Scan(&customer, &amount, &deals, &share, &signed, &paidAt, &paid); err != nil {
		t.Fatal(err)
	}
	if customer != "上海远景科技有限公司" || amount != "1234567.89" || deals.Int64 != 3 || share != 0.253 ||
		signed != "2024-03-31" || paidAt != "2024-03-31 16:30:05.123456" || !paid {
		t.Errorf("row 1 = %q %s %v %v %s %s %v", customer, amount, deals, share, signed, paidAt, paid)
	}
	if err := db.QueryRow(`SELECT customer, CAST(amount AS VARCHAR), deals, CAST(signed_on AS VARCHAR), strftime(paid_at, '%Y-%m-%d %H:%M:%S'), paid
			FROM (SELECT *, row_number() OVER () AS r FROM `+src+`) WHERE r = 3`).
		Scan(&customer, &amount, &deals, &signed, &paidAt, &paid); err != nil {
		t.Fatal(err)
	}
	if customer != "0.1+0.2" || amount != "0.10" || deals.Int64 != 7 || signed != "2024-03-31" || paidAt != "2024-02-29 02:00:00" || paid {
		t.Errorf("row 3 = %q %s %v %s %s %v", customer, amount, deals, signed, paidAt, paid)
	}
	// Labels and kinds travel as Arrow field metadata.
	var kv string
	if err := db.QueryRow(`SELECT decode(value) FROM parquet_kv_metadata('` + strings.ReplaceAll(path, "'", "''") + `') WHERE decode(key) = 'ARROW:schema'`).Scan(&kv); err != nil {
		t.Fatal(err)
	}
	if kv == "" {
		t.Error("no Arrow schema stored")
	}
}

func TestParquetRefusesValuesOfTheWrongKind(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		v    any
	}{{Money, "abc"}, {Integer, 1.5}, {Date, "31/03/2024"}, {Time, 12}, {Bool, "maybe"}, {Money, 1e17}} {
		tb := &Table{Name: "t", Columns: []Column{{Name: "x", Kind: c.kind}}, Rows: SliceRows([][]any{{nil}, {c.v}})}
		_, err := WriteParquet(io.Discard, tb, Options{})
		if err == nil || !strings.Contains(err.Error(), "row 2, column x") {
			t.Errorf("%s %v: %v", c.kind, c.v, err)
		}
	}
}
