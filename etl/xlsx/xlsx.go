// Package xlsx reads the sheets of an XLSX workbook as source.Tables. Rows
// stream out of the archive through a scanner of the worksheet's XML
// (sheet.go) that gives what excelize's row iterator gives with raw cell
// values, about ten times faster: numbers keep all their digits and dates
// arrive as serials, which the loader's date parser reads in the workbook's
// date system (Traits.Date1904). Line numbers are Excel row numbers. Merged
// cells take the value of their top-left cell.
//
// A workbook is a zip archive: its uncompressed size is checked against
// Limits.MaxUnzipBytes before anything is decompressed (archive/zip fails a
// part larger than it declares), no cell value is kept past
// Limits.MaxTextBytes, and nothing but the shared strings is held whole.
// excelize opens the workbook only to read display formats
// (PercentFormatted), with the same limit (UnzipSizeLimit), keeping large
// sheets in temporary files rather than in memory (UnzipXMLSizeLimit).
package xlsx

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/xuri/excelize/v2"

	"github.com/triscope/triscope/etl/source"
)

// Sheet is one sheet of a workbook.
type Sheet struct {
	Name   string
	Hidden bool
	part   string // the worksheet's XML part
}

// workbookSheets lists a workbook's sheets and their XML parts without
// loading the workbook.
func workbookSheets(zr *zip.Reader) ([]Sheet, error) {
	sheets, _, err := readWorkbook(zr)
	return sheets, err
}

// readWorkbook reads the workbook part: its sheets and whether its serial
// dates count from 1904.
func readWorkbook(zr *zip.Reader) ([]Sheet, bool, error) {
	var wb struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string `xml:"name,attr"`
			State string `xml:"state,attr"`
			RID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := readZipXML(zr, "xl/workbook.xml", &wb); err != nil {
		return nil, false, err
	}
	if err := readZipXML(zr, "xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, false, err
	}
	targets := map[string]string{}
	for _, r := range rels.Rels {
		t := r.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join("xl", t)
		}
		targets[r.ID] = t
	}
	var out []Sheet
	for _, s := range wb.Sheets {
		out = append(out, Sheet{Name: s.Name, part: targets[s.RID], Hidden: s.State == "hidden" || s.State == "veryHidden"})
	}
	if len(out) == 0 {
		return nil, false, errors.New("the workbook has no sheets")
	}
	d := strings.TrimSpace(wb.Pr.Date1904)
	return out, d == "1" || d == "true", nil
}

func readZipXML(zr *zip.Reader, name string, v any) error {
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				return err
			}
			defer rc.Close()
			if err := xml.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(v); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		}
	}
	return fmt.Errorf("not an XLSX workbook: %s is missing", name)
}

// openZip opens a workbook's archive and refuses it when it would unzip to
// more than maxUnzip bytes (the sizes the archive declares; archive/zip
// fails a part that turns out larger than it declared).
func openZip(p string, maxUnzip int64) (*zip.ReadCloser, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("not an XLSX workbook (%v); if it is an old .xls file renamed, save it as .xlsx", err)
	}
	var total uint64
	for _, f := range zr.File {
		total += min(f.UncompressedSize64, 1<<62)
	}
	if total > uint64(maxUnzip) {
		zr.Close()
		return nil, fmt.Errorf("the workbook unzips to %s, more than the limit of %s (a decompression bomb, or a workbook too large to read as XLSX: save its sheets as CSV, or raise MaxUnzipBytes)",
			source.Bytes(int64(min(total, 1<<62))), source.Bytes(maxUnzip))
	}
	return zr, nil
}

// Sheets lists a workbook's sheets without loading the workbook.
func Sheets(path string, lim source.Limits) ([]Sheet, error) {
	zr, err := openZip(path, lim.WithDefaults().MaxUnzipBytes)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return workbookSheets(&zr.Reader)
}

// Source is one sheet of a workbook.
type Source struct {
	Path   string
	Sheet  string
	Limits source.Limits
	// merged: a first reading found merged cells only at the end of a large
	// sheet (source.ErrReadAgain); the next Open looks for them first.
	merged bool
}

// Open opens the workbook and starts reading the sheet.
func (s *Source) Open(ctx context.Context) (source.Table, error) {
	return openTable(s)
}

// Table streams one sheet.
type Table struct {
	src      *Source
	zr       *zip.ReadCloser
	part     io.ReadCloser
	inflate  *inflateAhead // the part, decompressed ahead of rd
	rd       *sheetReader
	lim      source.Limits
	row      int64
	merges   map[int64][]*mergeArea // by first row
	active   []*mergeArea
	date1904 bool
	// late: the merged areas were not looked for before the rows (a large
	// sheet); finding one after them means reading the sheet again.
	late bool
	done bool
	// The rows are read ahead, on a goroutine of their own (readAhead).
	ahead          chan rowBatch
	quit, finished chan struct{}
	cur            rowBatch
	pos            int
}

// rowBatch is a block of rows read ahead; err (io.EOF at the end) follows them.
type rowBatch struct {
	rows []aheadRow
	err  error
}

type aheadRow struct {
	rec []string
	n   int64
}

// readAhead reads the sheet's rows into batches for next, so that reading
// the XML and what the loader does with the rows run side by side.
func (t *Table) readAhead() {
	defer close(t.finished)
	defer close(t.ahead)
	var b rowBatch
	send := func() bool {
		select {
		case t.ahead <- b:
			b = rowBatch{rows: make([]aheadRow, 0, len(b.rows))}
			return true
		case <-t.quit:
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			b.err = fmt.Errorf("near row %d: %v", t.rd.seek, r)
			send()
		}
	}()
	for {
		rec, n, err := t.rd.next()
		if err == io.EOF && t.rd.x.err != nil {
			// Not the end of the sheet: the rest of it cannot be read.
			err = fmt.Errorf("its worksheet does not decompress (%w); export the workbook again", t.rd.x.err)
		}
		if err == io.EOF && t.late {
			// The merged areas follow the rows: were there any?
			if m, merr := scanMergesFrom(t.rd); merr != nil || len(m) > 0 {
				t.src.merged = true
				err = source.ErrReadAgain
			}
		}
		if err != nil {
			b.err = err
			send()
			return
		}
		b.rows = append(b.rows, aheadRow{rec: rec, n: int64(n)})
		if len(b.rows) == 512 && !send() {
			return
		}
	}
}

// inflateAhead decompresses a worksheet part on a goroutine of its own, a few
// blocks ahead of the scanner that reads it: inflating is about a third of
// reading a sheet, and runs beside the scanning. It gives what the part
// gives, its error (archive/zip's for a part larger than it declares, a
// checksum) after the last bytes read before it.
type inflateAhead struct {
	src        io.Reader
	full, free chan []byte
	block, cur []byte // the block being read, and what is left of it
	made       int    // blocks allocated
	err        error  // read once full is closed
	quit, done chan struct{}
}

// Blocks of 256 KiB, at most inflateBlocks+2 of them (queued, being read,
// being filled): about 1.5 MiB a sheet being read.
const (
	inflateBlock  = 256 << 10
	inflateBlocks = 4
)

func newInflateAhead(r io.Reader) *inflateAhead {
	a := &inflateAhead{src: r, full: make(chan []byte, inflateBlocks), free: make(chan []byte, inflateBlocks+2),
		quit: make(chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *inflateAhead) run() {
	defer close(a.done)
	defer close(a.full)
	defer func() {
		if r := recover(); r != nil {
			a.err = fmt.Errorf("inflating the worksheet: %v", r)
		}
	}()
	for {
		var b []byte
		select {
		case b = <-a.free:
		default:
			if a.made < inflateBlocks+2 {
				a.made++
				b = make([]byte, inflateBlock)
			} else {
				select {
				case b = <-a.free:
				case <-a.quit:
					return
				}
			}
		}
		n, err := io.ReadFull(a.src, b[:inflateBlock])
		if n > 0 {
			select {
			case a.full <- b[:n]:
			case <-a.quit:
				return
			}
		}
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF // a last, partial block
			}
			a.err = err
			return
		}
	}
}

// Read gives the decompressed bytes in order, then the part's error (io.EOF
// at its end).
func (a *inflateAhead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.block != nil {
			a.free <- a.block[:cap(a.block)] // never blocks: free holds every block
			a.block = nil
		}
		b, ok := <-a.full
		if !ok {
			return 0, a.err
		}
		a.block, a.cur = b, b
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the decompression; the part may be closed once it returns.
func (a *inflateAhead) Close() {
	close(a.quit)
	<-a.done
}

// prescanMerges: a sheet whose XML is at most this large is scanned for
// merged areas (which follow the rows) before its rows are read. A larger
// one is read at once; merged areas found after its rows make the loader
// read it again, looking for them first (source.ErrReadAgain): exports that
// large rarely merge cells, and the scan would decompress the sheet twice.
var prescanMerges uint64 = 32 << 20

const maxMergeCol = 1023

type mergeArea struct {
	r1, r2 int64
	c1, c2 int
	value  string
}

func openTable(src *Source) (t *Table, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the workbook is damaged: %v", r)
		}
	}()
	lim := src.Limits.WithDefaults()
	zr, err := openZip(src.Path, lim.MaxUnzipBytes)
	if err != nil {
		return nil, err
	}
	// klauspost's inflate is about twice as fast as compress/flate's.
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return flate.NewReader(r) })
	fail := func(err error) (*Table, error) {
		zr.Close()
		return nil, err
	}
	sheets, date1904, err := readWorkbook(&zr.Reader)
	if err != nil {
		return fail(err)
	}
	var part *zip.File
	for _, s := range sheets {
		if s.Name == src.Sheet {
			for _, f := range zr.File {
				if f.Name == s.part {
					part = f
				}
			}
		}
	}
	if part == nil {
		return fail(fmt.Errorf("sheet %s: its worksheet is missing from the workbook", src.Sheet))
	}
	t = &Table{src: src, zr: zr, lim: lim, date1904: date1904, merges: map[int64][]*mergeArea{}}
	if src.merged || part.UncompressedSize64 <= prescanMerges {
		merges, err := scanMerges(&zr.Reader, part.Name)
		if err != nil {
			return fail(err)
		}
		for _, m := range merges {
			t.merges[m.r1] = append(t.merges[m.r1], m)
		}
	} else {
		t.late = true
	}
	var sst *sharedStrings
	for _, f := range zr.File {
		if f.Name == "xl/sharedStrings.xml" {
			rc, err := f.Open()
			if err != nil {
				return fail(err)
			}
			sst, err = readSharedStrings(rc, lim.MaxTextBytes)
			rc.Close()
			if err != nil {
				return fail(fmt.Errorf("the workbook is damaged: %w", err))
			}
		}
	}
	if t.part, err = part.Open(); err != nil {
		return fail(err)
	}
	t.inflate = newInflateAhead(t.part)
	t.rd = &sheetReader{x: lexer{r: t.inflate}, sst: sst, maxText: lim.MaxTextBytes}
	return t, nil
}

// unzipXMLInMemory is the largest worksheet or shared-strings part excelize
// keeps in memory; larger ones go to a temporary file.
const unzipXMLInMemory = 16 << 20

// scanMerges finds the merged areas of a sheet: <mergeCell ref="A1:C2"/>
// elements after the sheet data. The part is scanned as bytes rather than
// parsed, which keeps it fast on large sheets.
func scanMerges(zr *zip.Reader, part string) ([]*mergeArea, error) {
	var zf *zip.File
	for _, f := range zr.File {
		if f.Name == part {
			zf = f
		}
	}
	if zf == nil {
		return nil, nil
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 1<<16), 64<<20)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '>'); i >= 0 {
			return i + 1, data[:i+1], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	var out []*mergeArea
	for sc.Scan() {
		tok := sc.Bytes()
		i := bytes.Index(tok, []byte("mergeCell "))
		if i < 0 {
			continue
		}
		j := bytes.Index(tok[i:], []byte(`ref="`))
		if j < 0 {
			continue
		}
		ref := tok[i+j+5:]
		if k := bytes.IndexByte(ref, '"'); k >= 0 {
			ref = ref[:k]
		}
		if m := mergeOf(ref); m != nil {
			out = append(out, m)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading merged cells: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].r1 < out[j].r1 })
	return out, nil
}

// mergeOf reads the reference of a merged area (A1:C2); nil when it is not one.
func mergeOf(ref []byte) *mergeArea {
	a, b, ok := strings.Cut(string(ref), ":")
	if !ok {
		return nil
	}
	c1, r1, err1 := excelize.CellNameToCoordinates(a)
	c2, r2, err2 := excelize.CellNameToCoordinates(b)
	if err1 != nil || err2 != nil || r2 < r1 || c2 < c1 || c1-1 > maxMergeCol {
		return nil
	}
	// A merge as wide as the sheet (A1:XFD1) would pad every row it covers to
	// 16384 cells; no contract column lies that far right.
	return &mergeArea{r1: int64(r1), r2: int64(r2), c1: c1 - 1, c2: min(c2-1, maxMergeCol)}
}

// scanMergesFrom reads the rest of a sheet whose rows were read for its
// merged areas.
func scanMergesFrom(rd *sheetReader) ([]*mergeArea, error) {
	var out []*mergeArea
	for {
		t, err := rd.x.tag()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if t.start && t.is("mergeCell") {
			if m := mergeOf(t.attr("ref")); m != nil {
				out = append(out, m)
			}
		}
	}
}

// Next returns the next row of the sheet.
func (t *Table) Next() (source.Row, error) {
	rec, line, err := t.next()
	return source.Row{Fields: rec, Line: line}, err
}

func (t *Table) next() (rec []string, line int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the workbook is damaged near row %d: %v", t.row, r)
		}
	}()
	if t.ahead == nil {
		t.ahead, t.quit, t.finished = make(chan rowBatch, 4), make(chan struct{}), make(chan struct{})
		go t.readAhead()
	}
	for {
		if t.pos < len(t.cur.rows) {
			r := t.cur.rows[t.pos]
			t.pos++
			rec, t.row = r.rec, r.n
			break
		}
		if err := t.cur.err; err != nil || t.done {
			t.done, t.cur.err = true, nil
			switch {
			case err == nil, err == io.EOF:
				return nil, 0, io.EOF
			case err == source.ErrReadAgain:
				return nil, t.row, err
			}
			return nil, t.row, fmt.Errorf("the workbook is damaged: %w", err)
		}
		b, ok := <-t.ahead
		if !ok {
			t.done = true
			continue
		}
		t.cur, t.pos = b, 0
	}
	// Merged areas: every cell takes the value of the area's top-left cell.
	if ms := t.merges[t.row]; len(ms) > 0 {
		for _, m := range ms {
			if m.c1 < len(rec) {
				m.value = rec[m.c1]
			}
			t.active = append(t.active, m)
		}
	}
	// A row with nothing of its own is not a record, even inside a merged area.
	if len(t.active) > 0 && !isBlank(rec) {
		keep := t.active[:0]
		for _, m := range t.active {
			if m.r2 < t.row {
				continue
			}
			keep = append(keep, m)
			for len(rec) <= m.c2 {
				rec = append(rec, "")
			}
			for c := m.c1; c <= m.c2; c++ {
				if rec[c] == "" {
					rec[c] = m.value
				}
			}
		}
		t.active = keep
	}
	return rec, t.row, nil
}

// Pending: a sheet has no lines of its own to refuse.
func (t *Table) Pending() []source.Reject { return nil }

// Traits: spreadsheet cells; rows are as wide as their last cell.
func (t *Table) Traits() source.Traits {
	return source.Traits{Encoding: "xlsx", Spreadsheet: true, Date1904: t.date1904}
}

// Close closes the workbook.
func (t *Table) Close() error {
	if t.ahead != nil {
		close(t.quit)
		<-t.finished
		t.ahead = nil
	}
	t.inflate.Close() // before the part it reads
	t.part.Close()
	return t.zr.Close()
}

// PercentFormatted reads the first rows below the header with their display
// format: a percentage column whose cells show "60%" stores 0.6, so its raw
// values are fractions.
func (t *Table) PercentFormatted(cols []int, headerLine int64) (out map[int]bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the workbook is damaged: %v", r)
		}
	}()
	out = map[int]bool{}
	if len(cols) == 0 {
		return out, nil
	}
	f, err := excelize.OpenFile(t.src.Path, excelize.Options{RawCellValue: true,
		UnzipSizeLimit: t.lim.MaxUnzipBytes, UnzipXMLSizeLimit: min(t.lim.MaxUnzipBytes, unzipXMLInMemory)})
	if err != nil {
		return nil, fmt.Errorf("cannot open the workbook: %w", err)
	}
	defer f.Close()
	rows, err := f.Rows(t.src.Sheet)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for r := int64(1); r <= headerLine+50 && rows.Next(); r++ {
		if r <= headerLine {
			continue
		}
		rec, err := rows.Columns(excelize.Options{RawCellValue: false})
		if err != nil {
			return nil, err
		}
		for _, j := range cols {
			if j < len(rec) && strings.HasSuffix(strings.TrimSpace(rec[j]), "%") {
				out[j] = true
			}
		}
	}
	return out, nil
}

func isBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// IsError is true for the text of an Excel error value: a formula that
// failed (#N/A, #REF!, …).
func IsError(s string) bool { return len(s) > 2 && s[0] == '#' && excelErrors[s] }

var excelErrors = map[string]bool{"#N/A": true, "#VALUE!": true, "#REF!": true, "#DIV/0!": true, "#NUM!": true, "#NAME?": true,
	"#NULL!": true, "#SPILL!": true, "#CALC!": true, "#GETTING_DATA": true}
