package etl

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"
)

// XLSX workbooks: each sheet is a source of its own (path#sheet), its entity
// named by the mapping, the sheet name (payments, 回款) or, for the first
// sheet, the file name. Rows stream through excelize with raw cell values, so
// numbers keep all their digits and dates arrive as serials, which the date
// parser reads in the workbook's date system. Line numbers are Excel row
// numbers.

type sheetInfo struct {
	name, part string
	hidden     bool
}

// workbookSheets lists a workbook's sheets and their XML parts without
// loading the workbook.
func workbookSheets(zr *zip.Reader) ([]sheetInfo, error) {
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
	var out []sheetInfo
	for _, s := range wb.Sheets {
		out = append(out, sheetInfo{name: s.Name, part: targets[s.RID], hidden: s.State == "hidden" || s.State == "veryHidden"})
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

func openZip(p string) (*zip.ReadCloser, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("not an XLSX workbook (%v); if it is an old .xls file renamed, save it as .xlsx", err)
	}
	return zr, nil
}

func resolveWorkbook(f string, size int64, sum string, opts Options) ([]*source, []string, error) {
	zr, err := openZip(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f, err)
	}
	defer zr.Close()
	sheets, err := workbookSheets(&zr.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f, err)
	}
	var out []*source
	var notes []string
	for i, sh := range sheets {
		rule := opts.Mapping.ruleFor(f, sh.name)
		if rule != nil && rule.Sheet == "" && i > 0 {
			rule = nil // a rule without sheet: applies to the first sheet
		}
		if rule != nil && rule.Skip {
			notes = append(notes, fmt.Sprintf("%s#%s: skipped by the mapping", f, sh.name))
			continue
		}
		name := ""
		switch {
		case opts.Entity != "" && i == 0:
			name = opts.Entity
		case rule != nil && rule.Entity != "":
			name = rule.Entity
		default:
			name = entityFromName(sh.name)
			if name == "" && i == 0 {
				name = entityFromFileName(f)
			}
		}
		if name == "" {
			notes = append(notes, fmt.Sprintf("%s#%s: the sheet is not named after an entity and no mapping rule matches it, so it was ignored", f, sh.name))
			continue
		}
		ent, err := EntityByName(name)
		if err != nil {
			return nil, nil, fmt.Errorf("%s#%s: %w", f, sh.name, err)
		}
		set, err := opts.Mapping.settingsFor(rule, ent, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("%s#%s: %w", f, sh.name, err)
		}
		h := sha256.Sum256([]byte(sum + "#" + sh.name))
		src := newSource(f, sh.name, ent, "xlsx", size, hex.EncodeToString(h[:]), set)
		src.size = size / int64(len(sheets))
		out = append(out, src)
	}
	return out, notes, nil
}

// xlsxTable streams one sheet.
type xlsxTable struct {
	f        *excelize.File
	zr       *zip.ReadCloser
	rows     *excelize.Rows
	sheet    string
	row      int64
	merges   map[int64][]*mergeArea // by first row
	active   []*mergeArea
	fraction map[string]bool
	done     bool
}

const maxMergeCol = 1023

type mergeArea struct {
	r1, r2 int64
	c1, c2 int
	value  string
}

func openXLSXTable(src *source) (t *xlsxTable, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the workbook is damaged: %v", r)
		}
	}()
	zr, err := openZip(src.path)
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
		if s.name == src.sheet {
			part = s.part
		}
	}
	merges, err := scanMerges(&zr.Reader, part)
	if err != nil {
		zr.Close()
		return nil, err
	}
	f, err := excelize.OpenFile(src.path, excelize.Options{RawCellValue: true})
	if err != nil {
		zr.Close()
		return nil, fmt.Errorf("cannot open the workbook: %w", err)
	}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil && *props.Date1904 {
		src.set.opts.date1904 = true
	}
	src.set.opts.excel = true
	rows, err := f.Rows(src.sheet)
	if err != nil {
		f.Close()
		zr.Close()
		return nil, fmt.Errorf("sheet %s: %w", src.sheet, err)
	}
	t = &xlsxTable{f: f, zr: zr, rows: rows, sheet: src.sheet, merges: map[int64][]*mergeArea{}, fraction: map[string]bool{}}
	for _, m := range merges {
		t.merges[m.r1] = append(t.merges[m.r1], m)
	}
	return t, nil
}

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

func (t *xlsxTable) next() (rec []string, line int64, reason string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the workbook is damaged near row %d: %v", t.row, r)
		}
	}()
	if t.done || !t.rows.Next() {
		t.done = true
		if err := t.rows.Error(); err != nil {
			return nil, t.row, "", err
		}
		return nil, 0, "", io.EOF
	}
	t.row++
	rec, err = t.rows.Columns()
	if err != nil {
		return nil, t.row, "", err
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
	return rec, t.row, "", nil
}

func (t *xlsxTable) pending() []lineReject { return nil }
func (t *xlsxTable) strictWidth() bool     { return false }
func (t *xlsxTable) close() error {
	t.rows.Close()
	t.zr.Close()
	return t.f.Close()
}

// sniffPercent reads the first rows below the header with their display
// format: a percentage column whose cells show "60%" stores 0.6, so its raw
// values are fractions.
func (t *xlsxTable) sniffPercent(st *stager) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the workbook is damaged: %v", r)
		}
	}()
	var idx []int
	var cols []string
	for _, p := range st.plan {
		if p.col.Percent && p.src >= 0 && !t.fraction[p.col.Name] {
			idx, cols = append(idx, p.src), append(cols, p.col.Name)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	rows, err := t.f.Rows(t.sheet)
	if err != nil {
		return err
	}
	defer rows.Close()
	for r := int64(1); r <= st.src.report.HeaderLine+50 && rows.Next(); r++ {
		if r <= st.src.report.HeaderLine {
			continue
		}
		rec, err := rows.Columns(excelize.Options{RawCellValue: false})
		if err != nil {
			return err
		}
		for i, j := range idx {
			if j < len(rec) && strings.HasSuffix(strings.TrimSpace(rec[j]), "%") {
				t.fraction[cols[i]] = true
			}
		}
	}
	return nil
}

var excelErrors = map[string]bool{"#N/A": true, "#VALUE!": true, "#REF!": true, "#DIV/0!": true, "#NUM!": true, "#NAME?": true,
	"#NULL!": true, "#SPILL!": true, "#CALC!": true, "#GETTING_DATA": true}
