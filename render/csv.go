package render

import (
	"bufio"
	"encoding/csv"
	"io"
)

// BOM is the UTF-8 byte-order mark that tells Excel a CSV is UTF-8 (without
// it, Excel on a Chinese Windows reads the file as GBK).
const BOM = "\xEF\xBB\xBF"

// NeutraliseCell makes a CSV cell safe to open in a spreadsheet: text that
// begins with =, +, -, @, a tab or a carriage return would be evaluated as a
// formula (=HYPERLINK(…), +cmd|' /C calc'!A0, @SUM(…)), so it gets a leading
// apostrophe, which spreadsheets show as text (OWASP, "CSV Injection"). A
// plain number (-50, +3.5, -1.2e3) is left alone: numbers stay numbers.
// Every CSV cell the product writes goes through this function (the
// loader's rejects file applies the same rule in its SQL).
func NeutraliseCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if (s[0] == '-' || s[0] == '+') && isPlainNumber(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// WriteCSV writes a table as RFC 4180 CSV in UTF-8 with a byte-order mark:
// a header of the columns' labels, then one record per row, every cell
// through NeutraliseCell. Values are written by Options.Translate where it
// answers, otherwise machine-readable (numbers without separators, dates
// 2006-01-02, instants 2006-01-02 15:04:05 in Options.Location). It returns
// the number of rows written.
func WriteCSV(w io.Writer, t *Table, o Options) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(BOM); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(bw)
	rec := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		rec[i] = NeutraliseCell(c.header())
	}
	if err := cw.Write(rec); err != nil {
		return 0, err
	}
	loc := o.loc()
	var n int64
	for t.Rows.Next() {
		vals := t.Rows.Values()
		if len(vals) != len(t.Columns) {
			return n, rowError(t, n+1, 0, errWidth(len(vals), len(t.Columns)))
		}
		for i, v := range vals {
			c := t.Columns[i]
			s, ok := "", false
			if o.Translate != nil {
				s, ok = o.Translate(c, v)
			}
			if !ok {
				s = plain(c.kind(), v, loc)
			}
			rec[i] = NeutraliseCell(s)
		}
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	if err := t.Rows.Err(); err != nil {
		return n, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}
