package xlsx

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/triscope/triscope/etl/source"
)

const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`

// The sheets the reader is held to excelize on: what writers produce (shared
// and inline strings, rich text and phonetic runs, escapes, formulas,
// booleans, errors, gaps, cells and rows without references, namespace
// prefixes) with the shared strings below.
var sheetCases = []struct{ name, sheet string }{
	{"shared and inline", `<worksheet ` + ns + `><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v> 1 </v></c><c r="C1" t="inlineStr"><is><t>inline</t></is></c></row>` +
		`<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2" t="s"><v>4</v></c><c r="D2" t="s"><v>99</v></c><c r="E2" t="s"><v>x</v></c><c r="F2" t="s"><v></v></c></row></sheetData></worksheet>`},
	{"numbers and types", `<worksheet ` + ns + `><sheetData><row r="1"><c r="A1"><v>45296</v></c><c r="B1" s="3"><v>1234.5599999999999</v></c><c r="C1" t="n"><v>-1E-3</v></c><c r="D1" t="b"><v>1</v></c><c r="E1" t="e"><v>#N/A</v></c><c r="F1" t="d"><v>2024-01-05T09:30:00Z</v></c><c r="G1" t="str"><f>A1&amp;"x"</f><v>45296x</v></c><c r="H1"><f>1/0</f></c><c r="I1"><f/></c></row></sheetData></worksheet>`},
	{"gaps", `<worksheet ` + ns + `><sheetData><row r="2"><c r="C2"><v>1</v></c><c r="F2"><v>2</v></c></row><row r="5"><c r="B5"/><c r="D5"><v></v></c></row><row r="6"/><row r="9" spans="1:3"><c r="A9"><v>3</v></c><c r="B9" t="inlineStr"><is><t></t></is></c><c r="C9"><v>4</v></c></row></sheetData></worksheet>`},
	{"no references", `<worksheet ` + ns + `><sheetData><row><c><v>1</v></c><c t="inlineStr"><is><t>a</t></is></c></row><row><c><v>2</v></c><c r="D2"><v>3</v></c><c><v>4</v></c></row><row r="7"><c><v>5</v></c></row><row><c><v>6</v></c></row></sheetData></worksheet>`},
	{"text", `<worksheet ` + ns + `><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve"> a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#26376; &#x4E2D; </t></is></c>` +
		"<c r=\"B1\" t=\"inlineStr\"><is><t>line\r\nbreak\rcr &#13; kept</t></is></c>" +
		`<c r="C1" t="inlineStr"><is><t><![CDATA[<not a tag> & ]]>after</t></is></c><c r="D1" t="inlineStr"><is><t>_x000D__x005F_x0041__x0041_ _xZZZZ_</t></is></c>` +
		`<c r="E1" t="inlineStr"><is><r><rPr><b/></rPr><t>bold</t></r><r><t xml:space="preserve"> plain</t></r><rPh sb="0" eb="1"><t>ふりがな</t></rPh></is></c>` +
		`<c r="F1" t="inlineStr"><v>fallback</v></c><c r="G1" t="str"><v>客户 名称</v></c></row></sheetData></worksheet>`},
	{"prefixed", `<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>p</x:t></x:is></x:c><x:c r="B1"><x:v>7</x:v></x:c></x:row></x:sheetData></x:worksheet>`},
	{"comments and extras", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<worksheet ` + ns + `><dimension ref="A1:B2"/><sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetData><!-- a comment with <row> inside --><row r="1" ht="20" customHeight="1"><c r='A1' t='inlineStr'><is><t>single quotes</t></is></c><c r="B1" s="1"><v>1</v><extLst><ext><v>9</v></ext></extLst></c></row></sheetData><pageMargins left="0.7"/></worksheet>`},
}

var sharedStringsXML = `<?xml version="1.0" encoding="UTF-8"?><sst ` + ns + ` count="5" uniqueCount="5">` +
	`<si><t>first</t></si><si><t xml:space="preserve"> spaced &amp; </t></si><si><r><t>rich</t></r><r><rPr><i/></rPr><t>text</t></r><rPh><t>ルビ</t></rPh></si>` +
	`<si><t>_x0041_</t></si><si/></sst>`

// workbookWith writes a workbook whose first sheet and shared strings are
// the given XML.
func workbookWith(t *testing.T, sheet, sst string) string {
	t.Helper()
	f := excelize.NewFile()
	f.SetCellValue("Sheet1", "A1", "x") // a shared strings part
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		w, _ := zw.Create(zf.Name)
		switch zf.Name {
		case "xl/worksheets/sheet1.xml":
			io.WriteString(w, sheet)
		case "xl/sharedStrings.xml":
			io.WriteString(w, sst)
		default:
			rc, _ := zf.Open()
			io.Copy(w, rc)
			rc.Close()
		}
	}
	zw.Close()
	p := filepath.Join(t.TempDir(), "w.xlsx")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type lineRow struct {
	line int64
	rec  []string
}

// excelizeRows reads a sheet as the loader read it before sheet.go:
// excelize's row iterator with raw values, one line per Next.
func excelizeRows(t *testing.T, p, sheet string) []lineRow {
	f, err := excelize.OpenFile(p, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.Rows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []lineRow
	for line := int64(1); rows.Next(); line++ {
		rec, err := rows.Columns()
		if err != nil {
			t.Fatalf("excelize, row %d: %v", line, err)
		}
		if len(rec) > 0 {
			out = append(out, lineRow{line, rec})
		}
	}
	return out
}

func ourRows(t *testing.T, p, sheet string) []lineRow {
	tb, err := (&Source{Path: p, Sheet: sheet}).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	var out []lineRow
	for {
		r, err := tb.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("row %d: %v", r.Line, err)
		}
		if len(r.Fields) > 0 {
			out = append(out, lineRow{r.Line, append([]string(nil), r.Fields...)})
		}
	}
}

func TestSheetReaderIsExcelize(t *testing.T) {
	for _, c := range sheetCases {
		t.Run(c.name, func(t *testing.T) {
			p := workbookWith(t, c.sheet, sharedStringsXML)
			want, got := excelizeRows(t, p, "Sheet1"), ourRows(t, p, "Sheet1")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
	// Workbooks as excelize writes them: numbers, dates, text with every
	// kind of character, long values, wide rows.
	t.Run("written by excelize", func(t *testing.T) {
		f := excelize.NewFile()
		sw, _ := f.NewStreamWriter("Sheet1")
		for r := 1; r <= 300; r++ {
			row := []any{fmt.Sprintf("ID-%05d", r), r * 7, float64(r) / 3, strings.Repeat("长", r%40), "a\tb\"c'<d>&e\r\nf", r%2 == 0, nil, ""}
			if r%17 == 0 {
				row = append(row, strings.Repeat("x", 5000))
			}
			cell, _ := excelize.CoordinatesToCellName(1+r%3, r+r%5)
			sw.SetRow(cell, row)
		}
		sw.Flush()
		f.SetCellValue("Sheet1", "B1000", "shared")
		f.SetCellFormula("Sheet1", "C1000", "B1000&\"!\"")
		p := filepath.Join(t.TempDir(), "e.xlsx")
		if err := f.SaveAs(p); err != nil {
			t.Fatal(err)
		}
		want, got := excelizeRows(t, p, "Sheet1"), ourRows(t, p, "Sheet1")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rows differ: got %d, want %d", len(got), len(want))
			for i := range min(len(got), len(want)) {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("first difference:\ngot  %+v\nwant %+v", got[i], want[i])
				}
			}
		}
	})
}

// TestMergesFoundAfterTheRows: a large sheet is read before its merged
// areas are known; finding one after the rows asks for a second reading,
// which applies them.
func TestMergesFoundAfterTheRows(t *testing.T) {
	old := prescanMerges
	prescanMerges = 0
	defer func() { prescanMerges = old }()
	p := workbookWith(t, `<worksheet `+ns+`><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t></is></c></row>`+
		`<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>2</v></c></row><row r="3"><c r="B3"><v>3</v></c></row></sheetData><mergeCells count="1"><mergeCell ref="A2:A3"/></mergeCells></worksheet>`, sharedStringsXML)
	src := &Source{Path: p, Sheet: "Sheet1"}
	read := func() ([]lineRow, error) {
		tb, err := src.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer tb.Close()
		var out []lineRow
		for {
			r, err := tb.Next()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return out, err
			}
			out = append(out, lineRow{r.Line, append([]string(nil), r.Fields...)})
		}
	}
	if _, err := read(); err != source.ErrReadAgain {
		t.Fatalf("first reading: %v, want ErrReadAgain", err)
	}
	got, err := read()
	if err != nil {
		t.Fatal(err)
	}
	want := []lineRow{{1, []string{"a", "b"}}, {2, []string{"1", "2"}}, {3, []string{"1", "3"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// TestSheetReaderKeepsNoLongValue: a value of many megabytes is cut to the
// text limit plus one byte (the loader quarantines it as too long).
func TestSheetReaderKeepsNoLongValue(t *testing.T) {
	big := strings.Repeat("y", 3<<20)
	p := workbookWith(t, `<worksheet `+ns+`><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>`+big+`</t></is></c><c r="B1"><v>`+big+`</v></c><c r="C1" t="s"><v>0</v></c></row></sheetData></worksheet>`,
		`<sst `+ns+`><si><t>`+big+`</t></si></sst>`)
	tb, err := (&Source{Path: p, Sheet: "Sheet1", Limits: source.Limits{MaxTextBytes: 1000}}).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	r, err := tb.Next()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Fields) != 3 {
		t.Fatalf("fields %d", len(r.Fields))
	}
	for i, f := range r.Fields {
		if len(f) != 1001 || f != big[:1001] {
			t.Errorf("field %d: %d bytes", i, len(f))
		}
	}
}

// FuzzSheetReader feeds arbitrary bytes to the worksheet scanner (with a
// small shared strings table): it must return rows or an error and end,
// never panic or loop.
func FuzzSheetReader(f *testing.F) {
	for _, c := range sheetCases {
		f.Add([]byte(c.sheet))
	}
	f.Add([]byte(`<sheetData><row><c t="s"><v>1</v></c><c><is><t>&#x;</t></is></c></row>`))
	f.Add([]byte(`<row r="3"><c r="A3"><v>1` + "\r"))
	sst, err := readSharedStrings(strings.NewReader(sharedStringsXML), 100)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sheet []byte) {
		for _, chunk := range []int{1 << 20, 7} {
			rd := &sheetReader{x: lexer{r: &slowReader{b: sheet, n: chunk}}, sst: sst, maxText: 50}
			// A row numbered a million is preceded by as many empty rows:
			// the rows are counted only while they hold something.
			for i := 0; ; i++ {
				if i > len(sheet)+10 {
					t.Fatal("no end")
				}
				rec, _, err := rd.next()
				for err == nil && rec == nil && rd.cur > rd.seek {
					rec, _, err = rd.next()
				}
				if err != nil {
					break
				}
				for _, v := range rec {
					if len(v) > 51 {
						t.Fatalf("a value of %d bytes", len(v))
					}
				}
			}
		}
	})
}

// slowReader gives at most n bytes a read: values cut across reads.
type slowReader struct {
	b []byte
	n int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	m := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[m:]
	return m, nil
}

// FuzzQuickTag holds the one-pass reading of plain tags to the general one:
// whatever quickTag reads, tag and attr read the same.
func FuzzQuickTag(f *testing.F) {
	for _, s := range []string{`<c r="B7" t="s">`, `<c r="A1"/>`, `</row>`, `</row >`, `<x:c x:r="C3" s="2" t="inlineStr">`, `<row r="12" spans="1:7" ht="20">`,
		`<c t="n" r="D4" t="s" r="E5">`, `<c r = "A1" >`, `<c r="a>b">`, `<c r="it's">`, `<c r='A1'>`, `<c/ >`, `</c/>`, `<c r="A1"t="s">`, `<c="x">`,
		`text <v>1</v>`, `<!-- c --><c r="A1">`, `<?pi?><c>`, `<c r="A1`, `<row>`, `<c a:b:r="Z9">`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		q := lexer{buf: in}
		qt, r, typ, ok := q.quickTag()
		if !ok {
			if q.pos != 0 {
				t.Fatal("quickTag moved without reading a tag")
			}
			return
		}
		g := lexer{buf: in, eof: true}
		gt, err := g.tag()
		if err != nil {
			t.Fatalf("quickTag read %q, tag fails: %v", in[:q.pos], err)
		}
		if q.pos != g.pos || qt.start != gt.start || qt.selfClose != gt.selfClose || string(qt.name) != string(gt.name) || string(qt.attrs) != string(gt.attrs) {
			t.Fatalf("%q: quickTag %+v to %d, tag %+v to %d", in, qt, q.pos, gt, g.pos)
		}
		if string(r) != string(gt.attr("r")) || (r == nil) != (gt.attr("r") == nil) || string(typ) != string(gt.attr("t")) || (typ == nil) != (gt.attr("t") == nil) {
			t.Fatalf("%q: quickTag r=%q t=%q, attr r=%q t=%q", in, r, typ, gt.attr("r"), gt.attr("t"))
		}
	})
}

// TestInflateAhead: the part read ahead gives its bytes in order and then
// its error, whatever the sizes, and stops when closed before the end.
func TestInflateAhead(t *testing.T) {
	damaged := errors.New("damaged")
	for _, n := range []int{0, 1, inflateBlock - 1, inflateBlock, inflateBlock + 1, 9*inflateBlock + 123} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i * 7 / 3)
		}
		for _, end := range []error{io.EOF, damaged} {
			a := newInflateAhead(io.MultiReader(&slowReader{b: data, n: 5000}, &errReader{end}))
			got, err := io.ReadAll(a)
			if end == io.EOF && err != nil || end != io.EOF && err != end {
				t.Errorf("%d bytes then %v: error %v", n, end, err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("%d bytes then %v: read %d bytes, not the same", n, end, len(got))
			}
			a.Close()
		}
		a := newInflateAhead(bytes.NewReader(data))
		a.Read(make([]byte, 10))
		a.Close() // returns although nothing reads the blocks ahead
	}
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

// TestDamagedSheetIsAnError: a worksheet whose compressed data is damaged
// fails the reading, whether the damage is met looking for merged cells
// (before the rows) or reading the rows of a large sheet; it does not end
// the sheet early as if it had no more rows.
func TestDamagedSheetIsAnError(t *testing.T) {
	f := excelize.NewFile()
	sw, _ := f.NewStreamWriter("Sheet1")
	for r := 1; r <= 20000; r++ {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		sw.SetRow(cell, []any{fmt.Sprintf("ID-%d-%d", r, r*r%977), r * 7})
	}
	sw.Flush()
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()
	damaged := append([]byte(nil), good...)
	for i := len(damaged) / 2; i < len(damaged)/2+50; i++ {
		damaged[i] ^= 0x5a
	}
	read := func(data []byte) (int, error) {
		p := filepath.Join(t.TempDir(), "w.xlsx")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tb, err := (&Source{Path: p, Sheet: "Sheet1"}).Open(context.Background())
		if err != nil {
			return 0, err
		}
		defer tb.Close()
		for n := 0; ; n++ {
			if _, err := tb.Next(); err != nil {
				if err == io.EOF {
					err = nil
				}
				return n, err
			}
		}
	}
	for _, prescan := range []uint64{prescanMerges, 0} {
		old := prescanMerges
		prescanMerges = prescan
		if n, err := read(good); err != nil || n != 20000 {
			t.Errorf("prescan %d: the good workbook: %d rows, %v", prescan, n, err)
		}
		n, err := read(damaged)
		if err == nil || !strings.Contains(err.Error(), "flate") {
			t.Errorf("prescan %d: the damaged workbook: %d rows, error %v", prescan, n, err)
		}
		t.Logf("prescan %d: %d rows, then %v", prescan, n, err)
		prescanMerges = old
	}
}
