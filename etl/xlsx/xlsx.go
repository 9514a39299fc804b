// Package xlsx reads the sheets of an XLSX workbook as source.Tables. Rows
// stream through excelize with raw cell values, so numbers keep all their
// digits and dates arrive as serials, which the loader's date parser reads in
// the workbook's date system (Traits.Date1904). Line numbers are Excel row
// numbers. Merged cells take the value of their top-left cell.
//
// A workbook is a zip archive: its uncompressed size is checked against
// Limits.MaxUnzipBytes before anything is decompressed, and excelize gets the
// same limit (UnzipSizeLimit) and keeps large sheets in temporary files
// rather than in memory (UnzipXMLSizeLimit).
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
	var wb struct {
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
		return nil, err
	}
	if err := readZipXML(zr, "xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, err
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
		return nil, errors.New("the workbook has no sheets")
	}
	return out, nil
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
}

// Open opens the workbook and starts reading the sheet.
func (s *Source) Open(ctx context.Context) (source.Table, error) {
	return openTable(s.Path, s.Sheet, s.Limits)
}

// Table streams one sheet.
type Table struct {
	f        *excelize.File
	zr       *zip.ReadCloser
	rows     *excelize.Rows
	sheet    string
	row      int64
	merges   map[int64][]*mergeArea // by first row
	active   []*mergeArea
	date1904 bool
	done     bool
}

const maxMergeCol = 1023

type mergeArea struct {
	r1, r2 int64
	c1, c2 int
	value  string
}

func openTable(path, sheet string, lim source.Limits) (t *Table, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the workbook is damaged: %v", r)
		}
	}()
	lim = lim.WithDefaults()
	zr, err := openZip(path, lim.MaxUnzipBytes)
	if err != nil {
		return nil, err
	}
	sheets, err := workbookSheets(&zr.Reader)
	if err != nil {
		zr.Close()
		return nil, err
	}
	var part string
	for _, s := range sheets {
		if s.Name == sheet {
			part = s.part
		}
	}
	merges, err := scanMerges(&zr.Reader, part)
	if err != nil {
		zr.Close()
		return nil, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{RawCellValue: true,
		UnzipSizeLimit: lim.MaxUnzipBytes, UnzipXMLSizeLimit: min(lim.MaxUnzipBytes, unzipXMLInMemory)})
	if err != nil {
		zr.Close()
		return nil, fmt.Errorf("cannot open the workbook: %w", err)
	}
	t = &Table{f: f, zr: zr, sheet: sheet, merges: map[int64][]*mergeArea{}}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil && *props.Date1904 {
		t.date1904 = true
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		zr.Close()
		return nil, fmt.Errorf("sheet %s: %w", sheet, err)
	}
	t.rows = rows
	for _, m := range merges {
		t.merges[m.r1] = append(t.merges[m.r1], m)
	}
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
		a, b, ok := strings.Cut(string(ref), ":")
		if !ok {
			continue
		}
		c1, r1, err1 := excelize.CellNameToCoordinates(a)
		c2, r2, err2 := excelize.CellNameToCoordinates(b)
		if err1 != nil || err2 != nil || r2 < r1 || c2 < c1 || c1-1 > maxMergeCol {
			continue
		}
		// A merge as wide as the sheet (A1:XFD1) would pad every row it covers to
		// 16384 cells; no contract column lies that far right.
		out = append(out, &mergeArea{r1: int64(r1), r2: int64(r2), c1: c1 - 1, c2: min(c2-1, maxMergeCol)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading merged cells: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].r1 < out[j].r1 })
	return out, nil
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
	if t.done || !t.rows.Next() {
		t.done = true
		if err := t.rows.Error(); err != nil {
			return nil, t.row, err
		}
		return nil, 0, io.EOF
	}
	t.row++
	rec, err = t.rows.Columns()
	if err != nil {
		return nil, t.row, err
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
	t.rows.Close()
	t.zr.Close()
	return t.f.Close()
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
	rows, err := t.f.Rows(t.sheet)
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
