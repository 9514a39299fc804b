package etl

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/triscope/triscope/etl/csv"
	"github.com/triscope/triscope/etl/source"
	"github.com/triscope/triscope/etl/xlsx"
)

// Fuzz tests of everything that reads untrusted input before SQL: the value
// parsers, the CSV path and the XLSX path (the decoder's fuzz test is in etl/csv). Seeds are below and
// in testdata/fuzz/<FuzzName>/ (where go test -fuzz also writes any input
// that fails, which then stays as a regression case). Run one with
//
//	go test ./etl/ -run '^$' -fuzz FuzzParseAmount -fuzztime 30s

var canonicalNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
var plainNumber = regexp.MustCompile(`^-?[0-9]{1,16}(\.[0-9]{0,2})?$`)

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1234.56", "1,234.56", "¥1,234.56", "￥2,000", "$300", "(50)", "１２３．４５", "1 234,56", "1.234,56",
		"-0.5", "CNY 100", "100元", "1,23", "10.005", "=SUM(A1)", "1.5E+5", "50-", "(-50)", "12,34,567.00", "", " ", "-", "(", "()", "%", "60%",
		"0.30000000000000004", "1e400", "9999999999999999.99", "00012.10", "−5", "+7", "1'234.5", "1\u00a0234.50", ".5", "5.", "¥-3"} {
		f.Add(s, false, false)
		f.Add(s, true, false)
		f.Add(s, false, true)
	}
	f.Fuzz(func(t *testing.T, s string, decimalComma, excel bool) {
		o := &valueOpts{decimalComma: decimalComma, excel: excel}
		out, p := parseNumber(s, 2, 16, true, o)
		if p != "" {
			if out != "" {
				t.Fatalf("%q: problem %q with output %q", s, p, out)
			}
			if !utf8.ValidString(string(p)) {
				t.Fatalf("%q: reason is not UTF-8", s)
			}
			if !decimalComma && !excel && plainNumber.MatchString(s) {
				t.Fatalf("%q is a plain amount but was refused: %s", s, p)
			}
			return
		}
		if out == "" {
			return // empty input
		}
		if !canonicalNumber.MatchString(out) {
			t.Fatalf("%q → %q is not canonical", s, out)
		}
		if again, p := parseNumber(out, 2, 16, true, &valueOpts{}); p != "" || again != out {
			t.Fatalf("%q → %q → %q (%s): not stable", s, out, again, p)
		}
		if !decimalComma && !excel && plainNumber.MatchString(s) {
			a, _ := new(big.Rat).SetString(s)
			b, _ := new(big.Rat).SetString(out)
			if a.Cmp(b) != 0 {
				t.Fatalf("%q read as %q", s, out)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-01-05", "2024/1/5", "2024年1月5日", "20240105", "05/01/2024", "5/1/24", "2024-02-30", "2024.1.5",
		"05-Jan-2024", "2024-01-05 00:00:00", "2024-01-05 10:30", "２０２４－０１－０５", "45296", "60", "0", "45296.75", "2024-01-05T09:30:00+08:00",
		"2024-03-10 02:30", "9999-12-31", "0000-01-01", "2024-1-5 9:30 PM", "2024-01-05 24:00", "", "年月日", "2024年13月1日"} {
		f.Add(s, uint8(0), false)
		f.Add(s, uint8(1), true)
		f.Add(s, uint8(2), false)
	}
	ny, _ := time.LoadLocation("America/New_York")
	f.Fuzz(func(t *testing.T, s string, order uint8, excel bool) {
		o := &valueOpts{dateOrder: []string{"", "DMY", "MDY"}[order%3], excel: excel, date1904: order&4 != 0}
		if order&8 != 0 {
			o.loc = ny
		}
		if out, p := parseDate(s, o); p == "" && out != "" {
			if _, err := time.Parse("2006-01-02", out); err != nil {
				t.Fatalf("%q → %q: %v", s, out, err)
			}
			if again, p := parseDate(out, &valueOpts{}); again != out || p != "" {
				t.Fatalf("%q → %q → %q %s", s, out, again, p)
			}
		} else if p != "" && out != "" {
			t.Fatalf("%q: output %q with problem %q", s, out, p)
		}
		if out, p := parseTimestamp(s, o); p == "" && out != "" {
			if again, p := parseTimestamp(out, &valueOpts{}); again != out || p != "" {
				t.Fatalf("timestamp %q → %q → %q %s", s, out, again, p)
			}
			if !strings.HasPrefix(out, out[:10]) || out[4] != '-' || out[10] != ' ' {
				t.Fatalf("timestamp %q → %q is not canonical", s, out)
			}
		}
	})
}

// FuzzCSV runs the whole Go side of a CSV load (decode, parse, find the
// header, map columns, parse every value) on arbitrary bytes.
func FuzzCSV(f *testing.F) {
	for _, name := range []string{"testdata/tiny/payments.csv", "testdata/tiny/opportunities.csv", "testdata/cases/ok_messy_amounts/payments.csv",
		"testdata/cases/ok_date_forms/payments.csv", "testdata/cases/bad_csv_bare_quote/payments.csv"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Add([]byte("标题\n\n回款编号,客户编号,回款日期,金额\nP1,C1,2024/1/5,\"¥1,0\"\"00\"\n"), uint8(1))
	f.Add([]byte("payment_id;customer_id;paid_on;amount\nP1;C1;05.01.2024;1.234,56\n"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		ent, _ := EntityByName([]string{"payments", "opportunities", "customers"}[int(mode)%3])
		set := &settings{delimiter: ',', mode: "incremental", defaults: map[string]string{}}
		if mode&4 != 0 {
			set.delimiter = ';'
			set.opts.decimalComma = true
			set.opts.dateOrder = "DMY"
		}
		src := &input{name: "fuzz.csv", entity: ent, format: "csv", set: set, report: &FileReport{}}
		rows, read, rejects := stageWithoutDB(t, src, func() (source.Table, error) {
			return csv.NewTable(bytes.NewReader(b), "", set.delimiter, source.Limits{})
		})
		if read < int64(rows) {
			t.Fatalf("read %d < staged %d", read, rows)
		}
		for _, r := range rejects {
			if !utf8.ValidString(r.Reason) || r.Reason == "" {
				t.Fatalf("reject without a readable reason: %+v", r)
			}
		}
	})
}

// stageWithoutDB runs a stager up to the appender and counts what it would stage.
func stageWithoutDB(t testing.TB, src *input, open func() (source.Table, error)) (rows int, read int64, rejects []source.Reject) {
	tr, err := open()
	if err != nil {
		return 0, 0, nil
	}
	defer tr.Close()
	st := &stager{src: src, ent: src.entity, set: src.set, traits: tr.Traits()}
	st.set.opts.excel, st.set.opts.date1904 = st.traits.Spreadsheet, st.traits.Date1904
	rest, err := st.prepare(tr)
	if err != nil {
		return 0, 0, nil
	}
	width := 3 + len(st.plan)
	ch := make(chan *batch, 4)
	done := make(chan error, 1)
	go func() {
		defer close(ch)
		done <- st.produce(context.Background(), tr, rest, width, ch, make(chan *batch, 1))
	}()
	var last int64
	for b := range ch {
		for i := range b.n {
			row := b.vals[i*width : (i+1)*width]
			line := row[1].(int64)
			if line <= last && src.format != formatPostgres {
				t.Fatalf("line %d after line %d", line, last)
			}
			last = line
			for _, v := range row[3:] {
				if s, ok := v.(string); ok && !utf8.ValidString(s) {
					t.Fatalf("line %d stages invalid UTF-8 %q", line, s)
				}
			}
			rows++
		}
	}
	if err := <-done; err != nil {
		var fe *fileError
		if !asFileError(err, &fe) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	return rows, st.read, st.rejects
}

func asFileError(err error, fe **fileError) bool {
	for err != nil {
		if f, ok := err.(*fileError); ok {
			*fe = f
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// FuzzXLSX puts arbitrary XML in the worksheet of a valid workbook and reads
// it the way a load does: the reader must return rows or an error, never
// panic or hang.
func FuzzXLSX(f *testing.F) {
	template := xlsxTemplate(f)
	for _, s := range []string{
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>payment_id</t></is></c><c r="B1" t="inlineStr"><is><t>customer_id</t></is></c><c r="C1" t="inlineStr"><is><t>paid_on</t></is></c><c r="D1" t="inlineStr"><is><t>amount</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>P1</t></is></c><c r="B2" t="inlineStr"><is><t>C1</t></is></c><c r="C2"><v>45296</v></c><c r="D2"><v>1234.5599999999999</v></c></row></sheetData><mergeCells count="1"><mergeCell ref="B2:B4"/></mergeCells></worksheet>`,
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="3"><c r="ZZ3"><f>1+1</f><v>2</v></c></row><row r="1048577"/></sheetData></worksheet>`,
		`<worksheet><sheetData><row><c t="s"><v>99</v></c><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c></row></sheetData><mergeCells><mergeCell ref="A1:XFD1048576"/></mergeCells></worksheet>`,
		`<worksheet><sheetData><row r="1"><c r="A0"><v>1</v></c></row>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, sheet []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "payments.xlsx")
		if err := os.WriteFile(p, withSheet(t, template, sheet), 0o644); err != nil {
			t.Fatal(err)
		}
		srcs, _, err := resolveWorkbook(p, int64(len(sheet)), "x", Options{})
		if err != nil || len(srcs) == 0 {
			return
		}
		src := srcs[0]
		done := make(chan struct{})
		go func() {
			defer close(done)
			stageWithoutDB(t, src, func() (source.Table, error) {
				return (&xlsx.Source{Path: src.path, Sheet: src.sheet}).Open(context.Background())
			})
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("reading the sheet did not finish")
		}
	})
}

func xlsxTemplate(f *testing.F) []byte {
	dir := f.TempDir()
	p := filepath.Join(dir, "t.xlsx")
	var spec workbookSpec
	spec.Sheets = append(spec.Sheets, struct {
		Name   string            `json:"name"`
		Rows   [][]any           `json:"rows"`
		Merges []string          `json:"merges"`
		Hidden bool              `json:"hidden"`
		Cells  map[string]string `json:"cells"`
	}{Name: "payments", Rows: [][]any{{"payment_id", "customer_id"}, {"P1", "C1"}}})
	if err := writeWorkbook(spec, p); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// withSheet rewrites a workbook with its first worksheet replaced.
func withSheet(t *testing.T, workbook, sheet []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(workbook), int64(len(workbook)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		w, _ := zw.Create(f.Name)
		if f.Name == "xl/worksheets/sheet1.xml" {
			w.Write(sheet)
			continue
		}
		rc, _ := f.Open()
		io.Copy(w, rc)
		rc.Close()
	}
	zw.Close()
	return out.Bytes()
}
