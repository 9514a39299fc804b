package render

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

// MaxSheetRows is the number of data rows an Excel sheet holds below its
// header (1,048,576 rows in all).
const MaxSheetRows = excelize.TotalRows - 1

// XLSXOptions are WriteXLSX's choices.
type XLSXOptions struct {
	Options
	// MaxRowsPerSheet is the number of data rows after which a table goes
	// on in a continuation sheet ("Name (2)", with the header again).
	// 0 = MaxSheetRows.
	MaxRowsPerSheet int
	// MaxChartRows is the largest table that gets its chart (a chart over
	// more points than this is unreadable and slows Excel down); 0 = 5,000.
	MaxChartRows int
	// TmpDir holds excelize's spill files for big sheets ("" = os.TempDir()).
	TmpDir string
}

// Sheet is one worksheet WriteXLSX wrote.
type Sheet struct {
	Table string // the table's Name
	Name  string // the sheet's name (sanitised, unique)
	Rows  int64  // data rows on this sheet
	Chart bool   // a native chart was added
}

// widthSample is how many leading rows are read before the columns' widths
// are set (a stream writer sets them before the first row).
const widthSample = 100

// WriteXLSX writes one worksheet per table (more when a table has more rows
// than a sheet holds) with excelize's stream writer, so memory stays bounded
// whatever the number of rows. Each sheet has a bold header row, frozen, and
// column widths fitted to the header and the first rows. Numbers are
// numbers (money as #,##0.00, percents as 0.0 %, counts as #,##0), dates and
// instants are Excel dates (instants in Options.Location), text is an inline
// string, never a formula, whatever it begins with. Sheet names are the
// tables' names, made valid (31 characters, none of []:*?/\) and unique. A
// table with a Chart gets a native Excel chart beside its data on its first
// sheet, referring to that sheet's cells.
func WriteXLSX(w io.Writer, tables []*Table, o XLSXOptions) ([]Sheet, error) {
	if len(tables) == 0 {
		return nil, fmt.Errorf("render: an XLSX needs at least one table")
	}
	for _, t := range tables {
		if err := t.check(); err != nil {
			return nil, err
		}
	}
	if o.MaxRowsPerSheet <= 0 || o.MaxRowsPerSheet > MaxSheetRows {
		o.MaxRowsPerSheet = MaxSheetRows
	}
	if o.MaxChartRows <= 0 {
		o.MaxChartRows = 5000
	}
	f := excelize.NewFile(excelize.Options{TmpDir: o.TmpDir})
	defer f.Close()
	x := &xlsxWriter{f: f, o: o, names: sheetNames{}}
	if err := x.styles(); err != nil {
		return nil, err
	}
	for i, t := range tables {
		if err := x.table(t, i == 0); err != nil {
			return x.sheets, err
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return x.sheets, err
	}
	return x.sheets, nil
}

type xlsxWriter struct {
	f      *excelize.File
	o      XLSXOptions
	names  sheetNames
	sheets []Sheet
	style  map[Kind]int
	header int
}

func (x *xlsxWriter) styles() error {
	x.style = map[Kind]int{}
	for k, st := range map[Kind]*excelize.Style{
		Integer: {CustomNumFmt: ptr("#,##0")},
		Money:   {CustomNumFmt: ptr("#,##0.00")},
		Percent: {CustomNumFmt: ptr("0.0%")},
		Date:    {CustomNumFmt: ptr("yyyy-mm-dd")},
		Time:    {CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")},
	} {
		id, err := x.f.NewStyle(st)
		if err != nil {
			return err
		}
		x.style[k] = id
	}
	var err error
	x.header, err = x.f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#E8EDF3"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "#8A99AD", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	})
	return err
}

func ptr[T any](v T) *T { return &v }

// table writes one table on one or more sheets.
func (x *xlsxWriter) table(t *Table, first bool) error {
	base := sheetName(t.Name)
	name := x.names.unique(base, 1)
	if first {
		if err := x.f.SetSheetName(x.f.GetSheetName(0), name); err != nil {
			return err
		}
	} else if _, err := x.f.NewSheet(name); err != nil {
		return err
	}
	// The first rows decide the widths.
	var sample [][]any
	for len(sample) < widthSample && t.Rows.Next() {
		sample = append(sample, append([]any(nil), t.Rows.Values()...))
	}
	if err := t.Rows.Err(); err != nil {
		return err
	}
	widths := x.widths(t, sample)

	sw, err := x.sheet(name, t, widths)
	if err != nil {
		return err
	}
	cur := Sheet{Table: t.Name, Name: name}
	part := 1
	cells := make([]any, len(t.Columns))
	var total int64
	write := func(vals []any) error {
		if len(vals) != len(t.Columns) {
			return rowError(t, total+1, 0, errWidth(len(vals), len(t.Columns)))
		}
		if cur.Rows == int64(x.o.MaxRowsPerSheet) {
			if err := x.finish(sw, t, &cur, part); err != nil {
				return err
			}
			part++
			name := x.names.unique(base, part)
			if _, err := x.f.NewSheet(name); err != nil {
				return err
			}
			if sw, err = x.sheet(name, t, widths); err != nil {
				return err
			}
			cur = Sheet{Table: t.Name, Name: name}
		}
		for i, v := range vals {
			cells[i] = x.cell(t.Columns[i], v)
		}
		cell, err := excelize.CoordinatesToCellName(1, int(cur.Rows)+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, cells); err != nil {
			return rowError(t, total+1, 0, err)
		}
		cur.Rows++
		total++
		return nil
	}
	for _, vals := range sample {
		if err := write(vals); err != nil {
			return err
		}
	}
	if len(sample) == widthSample {
		for t.Rows.Next() {
			if err := write(t.Rows.Values()); err != nil {
				return err
			}
		}
		if err := t.Rows.Err(); err != nil {
			return err
		}
	}
	return x.finish(sw, t, &cur, part)
}

// sheet starts a stream on a sheet: widths, frozen header, header row.
func (x *xlsxWriter) sheet(name string, t *Table, widths []float64) (*excelize.StreamWriter, error) {
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return nil, err
	}
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = excelize.Cell{StyleID: x.header, Value: c.header()}
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{Height: 20}); err != nil {
		return nil, err
	}
	return sw, nil
}

// finish adds the chart (first sheet of a table) and ends the stream.
func (x *xlsxWriter) finish(sw *excelize.StreamWriter, t *Table, s *Sheet, part int) error {
	if part == 1 && t.Chart != nil && s.Rows > 0 && s.Rows <= int64(x.o.MaxChartRows) {
		if err := x.chart(s.Name, t, int(s.Rows)); err != nil {
			return fmt.Errorf("render: chart of %q: %w", t.Name, err)
		}
		s.Chart = true
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	x.sheets = append(x.sheets, *s)
	return nil
}

// chart adds a native chart of rows 2..rows+1 to the right of the data. It
// must be added before the stream is flushed: the drawing is part of the
// worksheet the flush writes.
func (x *xlsxWriter) chart(sheet string, t *Table, rows int) error {
	ch := t.Chart
	q := quoteSheet(sheet)
	ref := func(col, r1, r2 int) string {
		c, _ := excelize.ColumnNumberToName(col + 1)
		if r1 == r2 {
			return fmt.Sprintf("%s!$%s$%d", q, c, r1)
		}
		return fmt.Sprintf("%s!$%s$%d:$%s$%d", q, c, r1, c, r2)
	}
	cat := t.col(ch.Category)
	series := ch.Series
	if ch.Type == Pie {
		series = series[:1]
	}
	var ss []excelize.ChartSeries
	for _, name := range series {
		i := t.col(name)
		ss = append(ss, excelize.ChartSeries{Name: ref(i, 1, 1), Categories: ref(cat, 2, rows+1), Values: ref(i, 2, rows+1)})
	}
	title := ch.Title
	if title == "" {
		title = t.Name
	}
	c := &excelize.Chart{
		Series:    ss,
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title}}},
		Dimension: excelize.ChartDimension{Width: 720, Height: 400},
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Format:    excelize.GraphicOptions{OffsetX: 10, OffsetY: 10},
	}
	switch ch.Type {
	case Bar:
		c.Type = excelize.Col
	case Line:
		c.Type = excelize.Line
	case Pie:
		c.Type = excelize.Pie
		c.VaryColors = ptr(true)
		c.PlotArea.ShowPercent = true
		c.Legend.Position = "right"
	}
	if ch.Type != Pie {
		first := t.Columns[t.col(series[0])].kind()
		if fmtCode := map[Kind]string{Money: "#,##0", Percent: "0%", Integer: "#,##0"}[first]; fmtCode != "" {
			c.YAxis.NumFmt = excelize.ChartNumFmt{CustomNumFmt: fmtCode}
		}
		c.YAxis.MajorGridLines = true
	}
	anchor, err := excelize.CoordinatesToCellName(len(t.Columns)+2, 2)
	if err != nil {
		return err
	}
	return x.f.AddChart(sheet, anchor, c)
}

// cell is the excelize value of v in column c.
func (x *xlsxWriter) cell(c Column, v any) any {
	if blank(v) {
		return nil
	}
	k := c.kind()
	switch k {
	case Number, Integer, Money, Percent:
		if n, ok := toNum(v); ok {
			var val any = n.f
			if n.isInt && k != Percent {
				val = n.i
			}
			if st := x.style[k]; st != 0 {
				return excelize.Cell{StyleID: st, Value: val}
			}
			return val
		}
	case Date:
		if d, ok := toDate(v); ok {
			if s, ok := excelSerial(d); ok {
				return excelize.Cell{StyleID: x.style[Date], Value: s}
			}
			return d.Format("2006-01-02")
		}
	case Time:
		if t, ok := toInstant(v); ok {
			t = t.In(x.o.loc())
			if s, ok := excelSerial(t); ok {
				return excelize.Cell{StyleID: x.style[Time], Value: s}
			}
			return t.Format("2006-01-02 15:04:05")
		}
	case Bool, Text:
		if x.o.Translate != nil {
			if s, ok := x.o.Translate(c, v); ok {
				return excelText(s)
			}
		}
		if k == Bool {
			if b, ok := toBool(v); ok {
				return b
			}
		}
	}
	return excelText(toText(v)) // an inline string: never a formula
}

// maxExcelCellChars is the most a cell of Excel holds (UTF-16 code units);
// Excel reports a longer one as a damaged file.
const maxExcelCellChars = 32767

// excelText cuts s to what one cell holds, ending it with an ellipsis.
func excelText(s string) string {
	if len(s) <= maxExcelCellChars { // UTF-8 bytes ≥ UTF-16 code units
		return s
	}
	units := 0
	for i, r := range s {
		n := 1
		if r > 0xFFFF {
			n = 2
		}
		if units+n > maxExcelCellChars-1 {
			return s[:i] + "…"
		}
		units += n
	}
	return s
}

// widths are the columns' widths in characters, from the header and the
// sample rows (East Asian wide characters count two), between 8 and 60.
func (x *xlsxWriter) widths(t *Table, sample [][]any) []float64 {
	out := make([]float64, len(t.Columns))
	for i, c := range t.Columns {
		w := textWidth(c.header()) + 2 // the bold header
		for _, row := range sample {
			if i >= len(row) {
				continue
			}
			var s string
			switch k := c.kind(); k {
			case Date:
				s = "2006-01-02"
			case Time:
				s = "2006-01-02 15:04:05"
			case Integer, Money, Number, Percent:
				s = plain(k, row[i], x.o.loc())
				s += strings.Repeat(",", len(s)/3) // separators
			default:
				if x.o.Translate != nil {
					if tr, ok := x.o.Translate(c, row[i]); ok {
						s = tr
						break
					}
				}
				s = toText(row[i])
			}
			w = max(w, textWidth(s)+1)
		}
		out[i] = float64(min(max(w, 8), 60))
	}
	return out
}

func textWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// sheetName makes s a valid sheet name: none of []:*?/\ or control
// characters (each becomes _), no apostrophe at either end, not empty, not
// Excel's reserved "History", at most 31 characters (UTF-16 units, as Excel
// counts).
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, s)
	s = strings.Trim(strings.TrimSpace(s), "'")
	if s == "" {
		s = "Sheet"
	}
	if strings.EqualFold(s, "History") {
		s += "_"
	}
	return truncate16(s, excelize.MaxSheetNameLength)
}

// truncate16 cuts s to at most n UTF-16 code units, on a rune boundary.
func truncate16(s string, n int) string {
	units := 0
	for i, r := range s {
		units += utf16.RuneLen(r)
		if units > n {
			return strings.TrimRight(s[:i], " '")
		}
	}
	return s
}

// sheetNames are the names taken in a workbook, lower-cased: Excel
// compares sheet names without regard to case.
type sheetNames map[string]bool

// unique is base if it is free, else base with the first free suffix " (n)"
// from n = from up (the base shortened to keep 31 characters).
func (u sheetNames) unique(base string, from int) string {
	name := base
	if from > 1 || u[strings.ToLower(name)] {
		for n := max(from, 2); ; n++ {
			suffix := fmt.Sprintf(" (%d)", n)
			name = truncate16(base, excelize.MaxSheetNameLength-len(suffix)) + suffix
			if !u[strings.ToLower(name)] {
				break
			}
		}
	}
	u[strings.ToLower(name)] = true
	return name
}

// quoteSheet is a sheet name as a formula reference writes it: 'name', with
// apostrophes doubled.
func quoteSheet(name string) string {
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}
