package etl

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Regression tests for the loader findings of issue 18 (hardening). They use
// only Load and the default options, so they also run against the loader as
// it was before the fixes (where each of them fails).

// writeXLSX writes a minimal workbook with one sheet "payments" whose XML is
// sheet (rows of inline strings), streaming it into the archive.
func writeXLSX(t *testing.T, path string, sheet func(w *bytes.Buffer, flush func())) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	parts := map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels":                `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="payments" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"} {
		w, _ := zw.Create(name)
		w.Write([]byte(parts[name]))
	}
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	var buf bytes.Buffer
	flush := func() { w.Write(buf.Bytes()); buf.Reset() }
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	sheet(&buf, flush)
	buf.WriteString(`</sheetData></worksheet>`)
	flush()
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func xlsxRow(cells ...string) string {
	var b strings.Builder
	b.WriteString("<row>")
	for _, c := range cells {
		fmt.Fprintf(&b, `<c t="inlineStr"><is><t>%s</t></is></c>`, c)
	}
	b.WriteString("</row>")
	return b.String()
}

// Finding 4: cells of 1 MB each (in a workbook that zips to almost nothing)
// are quarantined with file, line and column, and never stored.
func TestXLSXCellsOverTheTextLimitAreQuarantined(t *testing.T) {
	w := openWarehouse(t)
	p := filepath.Join(t.TempDir(), "payments.xlsx")
	big := strings.Repeat("A", 1<<20)
	writeXLSX(t, p, func(b *bytes.Buffer, flush func()) {
		b.WriteString(xlsxRow("payment_id", "customer_id", "paid_on", "amount", "method"))
		for i := range 40 {
			b.WriteString(xlsxRow(fmt.Sprintf("P%d", i), "C1", "2024-05-01", "10.00", big))
			flush()
		}
		b.WriteString(xlsxRow("P99", "C1", "2024-05-01", "10.00", "cash"))
	})
	rep, err := Load(context.Background(), w, []string{p}, Options{MaxRejectShare: 1})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	f := rep.Files[0]
	if f.Read != 41 || f.Rejected != 40 || f.Loaded != 1 {
		t.Fatalf("read %d rejected %d loaded %d, want 41, 40, 1\n%s", f.Read, f.Rejected, f.Loaded, reportText(rep))
	}
	for _, r := range f.Rejects {
		if r.Column != "method" || r.Line < 2 || r.Line > 41 || !strings.Contains(r.Reason, "longer than the limit of 64 KiB") || len(r.Value) > 1000 {
			t.Fatalf("reject %d %q %s (value of %d bytes)", r.Line, r.Column, r.Reason, len(r.Value))
		}
	}
	if n := count(t, w, "SELECT coalesce(max(strlen(method)), 0) + coalesce((SELECT max(strlen(value)) FROM load_rejects), 0) FROM payments"); n > 2000 {
		t.Fatalf("%d bytes of the long values were stored", n)
	}
}

// Finding 4: a workbook of 4,000 cells of 1 MiB (4 GiB unzipped, a few MB on
// disk) is refused before anything is decompressed, with a clear error.
func TestXLSXDecompressionBombIsRefused(t *testing.T) {
	if os.Getenv("TRISCOPE_OLD_LOADER") != "" {
		t.Skip("not run against the old loader: it would decompress 4 GiB")
	}
	w := openWarehouse(t)
	p := filepath.Join(t.TempDir(), "payments.xlsx")
	writeBomb(t, p, 4000, 1<<20)
	st, _ := os.Stat(p)
	if st.Size() > 16<<20 {
		t.Fatalf("the bomb is %d bytes on disk", st.Size())
	}
	done := make(chan error, 1)
	go func() {
		_, err := Load(context.Background(), w, []string{p}, Options{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "the workbook unzips to 3.9 GiB, more than the limit of 1 GiB") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the load did not refuse the bomb")
	}
}

// writeBomb writes a workbook whose sheet holds n rows of one inline string of
// size bytes, compressed once and repeated (each deflate segment starts from
// an empty window, so concatenated they are one valid stream).
func writeBomb(t *testing.T, path string, n, size int) {
	t.Helper()
	var raw bytes.Buffer
	var zw *zip.Writer
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw = zip.NewWriter(f)
	segment := func(s []byte, final bool) []byte {
		var out bytes.Buffer
		fw, _ := flate.NewWriter(&out, flate.BestSpeed)
		fw.Write(s)
		if final {
			fw.Close()
		} else {
			fw.Flush()
		}
		return out.Bytes()
	}
	head := []byte(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + xlsxRow("payment_id", "customer_id", "paid_on", "amount", "method"))
	cell := []byte(`<row><c t="inlineStr"><is><t>` + strings.Repeat("A", size) + `</t></is></c></row>`)
	tail := []byte(`</sheetData></worksheet>`)
	crc := crc32.Update(0, crc32.IEEETable, head)
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, cell)
	}
	crc = crc32.Update(crc, crc32.IEEETable, tail)
	raw.Write(segment(head, false))
	cz := segment(cell, false)
	for range n {
		raw.Write(cz)
	}
	raw.Write(segment(tail, true))
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="payments" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
	} {
		w, _ := zw.Create(part.name)
		w.Write([]byte(part.body))
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(raw.Len()), UncompressedSize64: uint64(len(head) + n*len(cell) + len(tail))})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// Finding 4 and 9: a value longer than the text limit is quarantined in every
// format, naming the file, the line and the column.
func TestLongValuesAreQuarantinedInEveryFormat(t *testing.T) {
	w := openWarehouse(t)
	dir := t.TempDir()
	long := strings.Repeat("长", 40000) // 120,000 bytes
	csvPath := filepath.Join(dir, "payments.csv")
	os.WriteFile(csvPath, []byte("payment_id,customer_id,paid_on,amount,method\nL1,C1,2024-05-01,1.00,cash\nL2,C1,2024-05-01,2.00,"+long+"\n"), 0o644)
	ndPath := filepath.Join(dir, "payments_2.ndjson")
	os.WriteFile(ndPath, []byte(`{"payment_id":"L3","customer_id":"C1","paid_on":"2024-05-01","amount":3,"method":"cash"}`+"\n"+
		`{"payment_id":"L4","customer_id":"C1","paid_on":"2024-05-01","amount":4,"method":"`+long+`"}`+"\n"), 0o644)
	pqPath := filepath.Join(dir, "payments_3.parquet")
	if _, err := w.DB().Exec(fmt.Sprintf(`COPY (SELECT * FROM (VALUES ('L5', 'C1', DATE '2024-05-01', 5.00, 'cash'), ('L6', 'C1', DATE '2024-05-01', 6.00, '%s'))
		t(payment_id, customer_id, paid_on, amount, method)) TO '%s' (FORMAT parquet)`, long, pqPath)); err != nil {
		t.Fatal(err)
	}
	xlPath := filepath.Join(dir, "payments_4.xlsx")
	writeXLSX(t, xlPath, func(b *bytes.Buffer, flush func()) {
		b.WriteString(xlsxRow("payment_id", "customer_id", "paid_on", "amount", "method"))
		b.WriteString(xlsxRow("L7", "C1", "2024-05-01", "7.00", "cash"))
		b.WriteString(xlsxRow("L8", "C1", "2024-05-01", "8.00", long))
	})
	rep, err := Load(context.Background(), w, []string{csvPath, ndPath, pqPath, xlPath}, Options{MaxRejectShare: 1})
	if err != nil {
		t.Fatalf("load: %v\n%s", err, reportText(rep))
	}
	var got []string
	for _, f := range rep.Files {
		for _, r := range f.Rejects {
			if strings.Contains(r.Reason, "longer than the limit of 64 KiB") {
				got = append(got, fmt.Sprintf("%s:%d:%s", filepath.Base(f.Path), r.Line, r.Column))
			}
		}
	}
	slices.Sort(got)
	want := []string{"payments.csv:3:method", "payments_2.ndjson:2:method", "payments_3.parquet:2:method", "payments_4.xlsx#payments:3:method"}
	if !slices.Equal(got, want) {
		t.Fatalf("long-value rejects %q, want %q\n%s", got, want, reportText(rep))
	}
	if n := count(t, w, "SELECT count(*) FROM payments"); n != 4 {
		t.Fatalf("%d payments loaded, want the 4 short ones", n)
	}
}

// Finding 5: a file name is a name, not a pattern, in every format:
// payments[1].ndjson must not load its sibling payments1.ndjson.
func TestFileNamesWithPatternCharactersAreExact(t *testing.T) {
	names := []string{"payments[1]", "payments*", "payments?", "payments{a,b}", "pay ments 'q\"", "回款 [1]", `payments\1`}
	decoys := []string{"payments1", "paymentsX", "paymentsa", "payments{a}"}
	w := openWarehouse(t)
	dir := t.TempDir()
	write := func(base, ext, id string) string {
		p := filepath.Join(dir, base+ext)
		tmp := filepath.Join(dir, "tmp"+ext)
		switch ext {
		case ".csv":
			os.WriteFile(tmp, []byte("payment_id,customer_id,paid_on,amount\n"+id+",C1,2024-05-01,1.00\n"), 0o644)
		case ".ndjson":
			os.WriteFile(tmp, []byte(`{"payment_id":"`+id+`","customer_id":"C1","paid_on":"2024-05-01","amount":1}`+"\n"), 0o644)
		case ".parquet":
			if _, err := w.DB().Exec(fmt.Sprintf(`COPY (SELECT '%s' AS payment_id, 'C1' AS customer_id, DATE '2024-05-01' AS paid_on, 1.00 AS amount) TO '%s' (FORMAT parquet)`, id, tmp)); err != nil {
				t.Fatal(err)
			}
		case ".xlsx":
			writeXLSX(t, tmp, func(b *bytes.Buffer, flush func()) {
				b.WriteString(xlsxRow("payment_id", "customer_id", "paid_on", "amount"))
				b.WriteString(xlsxRow(id, "C1", "2024-05-01", "1.00"))
			})
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, ext := range []string{".csv", ".ndjson", ".parquet", ".xlsx"} {
		for i, d := range decoys {
			write(d, ext, fmt.Sprintf("DECOY%s%d", strings.TrimPrefix(ext, "."), i))
		}
		for i, n := range names {
			id := fmt.Sprintf("EXACT%s%d", strings.TrimPrefix(ext, "."), i)
			p := write(n, ext, id)
			rep, err := Load(context.Background(), w, []string{p}, Options{Entity: "payments"})
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(p), err)
				continue
			}
			if n := count(t, w, "SELECT count(*) FROM payments WHERE payment_id = $1", id); n != 1 || rep.Files[0].Read != 1 {
				t.Errorf("%s: its row loaded %d times, %d rows read", filepath.Base(p), n, rep.Files[0].Read)
			}
		}
	}
	if n := count(t, w, "SELECT count(*) FROM payments WHERE payment_id LIKE 'DECOY%'"); n != 0 {
		t.Errorf("%d rows of files that were not named were loaded", n)
	}
}

// Finding 10: a named pipe is refused as not a regular file (it was reported
// as an empty file), and the load does not wait for a writer.
func TestNamedPipeIsRefused(t *testing.T) {
	w := openWarehouse(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "payments.csv")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, in := range []string{p, dir} {
		done := make(chan error, 1)
		go func() {
			_, err := Load(context.Background(), w, []string{in}, Options{})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), "named pipe") {
				t.Errorf("%s: err = %v", in, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: the load waits on the pipe", in)
		}
	}
}
