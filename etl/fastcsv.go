package etl

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/triscope/triscope/etl/csv"
	"github.com/triscope/triscope/etl/parquet"
	"github.com/triscope/triscope/etl/source"
)

// Plain UTF-8 CSV is read by DuckDB's own reader (read_csv, in parallel), every
// column declared VARCHAR: never its type detection, which turns a column of
// mixed date formats into text without a word. Whether a file is plain is
// decided per file (csv.ScanPlain): its encoding, line endings, quoting and
// widths must make DuckDB's records exactly the Go reader's, line for line.
// Everything else — GBK and UTF-16, CR-only lines, quoted line breaks, ragged
// or blank lines, and files whose sampled values are mostly not canonical —
// is read by Go (stage.go).
//
// The Go parsers (values.go) accept many ways of writing a value and say
// precisely why they refuse one. DuckDB reads none of them: a SQL condition
// per column recognises only values whose canonical text is certain — the
// text the Go parser would return, as written or trimmed — and computes that
// text (source). Rows whose every value is such are candidates for direct
// application (direct.go); the others are read again, and only they, and go
// through the Go parsers like any row the Go reader reads (rescan). So both
// readers give the same rows, values and rejects (TestBothReadersGiveTheSameLoad).

// Which reader reads CSV: readerAuto decides per file; the others force one
// reader for every file it can read (tests).
const (
	readerAuto   = ""
	readerGo     = "go"
	readerDuckDB = "duckdb"
)

// fastCSV is a CSV file DuckDB reads.
type fastCSV struct {
	pattern string // the glob pattern that matches exactly the file
	header  int64  // the header's line
	fields  int
	rows    int64 // data lines
	delim   byte
	ascii   bool
	maxText int
	maxLine int
}

// sampleRows are the rows after the header whose values decide whether
// DuckDB or Go reads a file: when more than a fifth of them hold a value that
// is not canonical (thousands separators, other date forms), most rows would
// be read twice, and Go reads the file alone.
const sampleRows = 1000

// openFast decides whether DuckDB reads a CSV input. It reads the header with
// the Go reader (the same header search, mapping and messages as the Go path)
// and samples the rows after it, then scans the file (csv.ScanPlain). A nil
// fastCSV means Go reads the file (why says why); an error is a problem with
// the file that the Go reader would report the same way.
func (l *loader) openFast(ctx context.Context, in *input) (*stager, *fastCSV, string, error) {
	if l.opts.reader == readerGo || in.format != formatCSV {
		return nil, nil, "", nil
	}
	delim := in.set.delimiter
	if delim <= 0 || delim >= 0x80 || delim == '"' || delim == '\r' || delim == '\n' {
		return nil, nil, fmt.Sprintf("the delimiter %q", delim), nil
	}
	lim := l.opts.limits()
	t, err := (&csv.Source{Path: in.path, Encoding: in.set.encoding, Delimiter: delim, Limits: lim}).Open(ctx)
	if err != nil {
		return nil, nil, "", nil // the Go reader reports it
	}
	defer t.Close()
	traits := t.Traits()
	if traits.Encoding != "utf-8" && traits.Encoding != "utf-8-bom" {
		return nil, nil, "the encoding is " + traits.Encoding, nil
	}
	in.report.Encoding = traits.Encoding
	saved := *in.report
	saved.Warnings = slices.Clone(saved.Warnings)
	restore := func() { *in.report = saved }
	st := &stager{src: in, ent: in.entity, set: in.set, maxText: lim.MaxTextBytes, table: restTable(in.entity), traits: traits}
	rest, err := st.prepare(t)
	if err != nil {
		return st, nil, "", err
	}
	if l.opts.reader != readerDuckDB {
		if why := st.sampleMessy(t, rest); why != "" {
			restore()
			return nil, nil, why, nil
		}
	}
	plain, err := csv.ScanPlain(in.path, byte(delim), in.report.HeaderLine, len(st.header), lim.MaxLineBytes)
	if err != nil || !plain.OK {
		restore()
		return nil, nil, plain.Why, nil
	}
	pattern, ok := exactPattern(ctx, l.w.DB(), in.path)
	if !ok {
		restore()
		return nil, nil, "its name cannot be handed to DuckDB exactly", nil
	}
	in.report.Encoding = plain.Encoding
	return st, &fastCSV{pattern: pattern, header: in.report.HeaderLine, fields: len(st.header), rows: plain.Rows, delim: byte(delim),
		ascii: plain.ASCII, maxText: lim.MaxTextBytes, maxLine: lim.MaxLineBytes}, "", nil
}

// exactPattern is the glob pattern DuckDB's readers take for path, checked to
// match exactly that file (see etl/parquet).
func exactPattern(ctx context.Context, db *sql.DB, path string) (string, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	pat := parquet.Pattern(abs)
	rows, err := db.QueryContext(ctx, "SELECT file FROM glob("+quoteLiteral(pat)+")")
	if err != nil {
		return "", false
	}
	defer rows.Close()
	var files []string
	for rows.Next() {
		var f string
		if rows.Scan(&f) == nil {
			files = append(files, f)
		}
	}
	return pat, len(files) == 1 && filepath.Clean(files[0]) == abs
}

// sampleMessy reads the rows after the header (up to sampleRows) and says why
// Go should read the file when too many of them hold values that are not
// canonical, or refused values.
func (st *stager) sampleMessy(t source.Table, rest []bufRow) string {
	n, messy := 0, 0
	example := ""
	look := func(rec []string) {
		if rec == nil || isBlank(rec) {
			return
		}
		n++
		for _, p := range st.plan {
			if p.src < 0 || p.src >= len(rec) || rec[p.src] == "" {
				continue
			}
			if f := rec[p.src]; !p.looksCanonical(f) {
				messy++
				if example == "" {
					example = fmt.Sprintf("column %s: %q", p.col.Name, source.Clip(f, 30))
				}
				return
			}
		}
	}
	for _, r := range rest {
		look(r.rec)
	}
	for n < sampleRows {
		row, err := t.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "" // the scan decides
		}
		look(row.Fields)
	}
	if n > 0 && messy*5 > n {
		return fmt.Sprintf("%d of the first %d rows hold values that are not in canonical form (e.g. %s)", messy, n, example)
	}
	return ""
}

// looksCanonical approximates, in Go, the SQL condition of canon: only the
// choice of reader depends on it.
func (p *colPlan) looksCanonical(f string) bool {
	v, pr := p.conv(f)
	if pr != "" {
		return false
	}
	switch p.col.Kind {
	case Timestamp:
		return len(f) >= 19 && v[:10] == f[:10] && v[11:19] == f[11:19]
	case Text:
		return strings.EqualFold(v, strings.TrimSpace(f))
	}
	return v == f
}

// goSpace is every character strings.TrimSpace removes (unicode.IsSpace), as
// the characters argument of SQL trim().
var goSpace = func() string {
	var b strings.Builder
	for r := rune(0); r <= 0x3000; r++ {
		if unicode.IsSpace(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}()

// read is the read_csv call: no detection, every field VARCHAR, the header
// and the lines above it skipped, each record numbered (ordinality).
func (f *fastCSV) read() string {
	cols := make([]string, f.fields)
	for i := range cols {
		cols[i] = fmt.Sprintf("'__f%d': 'VARCHAR'", i)
	}
	opts := fmt.Sprintf("auto_detect = false, header = false, skip = %d, delim = %s, quote = '\"', escape = '\"', strict_mode = true, columns = {%s}",
		f.header, quoteLiteral(string(f.delim)), strings.Join(cols, ", "))
	if f.maxLine > 2_000_000 {
		opts += fmt.Sprintf(", max_line_size = %d, buffer_size = %d", f.maxLine+16, 4*(f.maxLine+16))
	}
	return fmt.Sprintf("read_csv(%s, %s) WITH ORDINALITY", quoteLiteral(f.pattern), opts)
}

// source is the candidates' source (direct.go) for the file: its line, the
// canonical text of every contract column, whether all of it is canonical
// (_canon), and the raw fields (__f0…) for the rows read again.
func (f *fastCSV) source(st *stager) string {
	sel := []string{fmt.Sprintf("%d AS _file", st.src.idx), fmt.Sprintf("ordinality + %d AS _line", f.header), "false AS _pre"}
	var ok []string
	for _, p := range st.plan {
		name := quoteIdent(p.col.Name)
		switch {
		case p.src >= 0:
			x := fmt.Sprintf("__f%d", p.src)
			cond, text := f.canon(st, p, x)
			if cond != "true" {
				ok = append(ok, fmt.Sprintf("(%s IS NULL OR %s)", x, cond))
			}
			sel = append(sel, text+" AS "+name)
		case p.how == "default" && p.constant != nil:
			sel = append(sel, quoteLiteral(fmt.Sprint(p.constant))+" AS "+name)
		default:
			sel = append(sel, "NULL::VARCHAR AS "+name)
		}
	}
	canon := "true"
	if len(ok) > 0 {
		canon = "coalesce(" + strings.Join(ok, " AND ") + ", false)"
	}
	sel = append(sel, canon+" AS _canon")
	for i := range f.fields {
		sel = append(sel, fmt.Sprintf("__f%d", i))
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + f.read()
}

// Patterns of canonical values: what the Go parsers return unchanged.
const (
	reKey  = `[!-~]([ -~]*[!-~])?` // printable ASCII, no space at either end
	reDate = `\d{4}-\d{2}-\d{2}`
	reTime = `([01]\d|2[0-3]):[0-5]\d:[0-5]\d`
	reZone = `(Z|[+-](0\d|1[0-4]):[0-5]\d)`
)

// canon is the SQL condition under which the raw field x has a canonical text
// the Go parser would return for it, and that text. Sound, not complete: a
// field it does not recognise is parsed by Go.
func (f *fastCSV) canon(st *stager, p *colPlan, x string) (cond, text string) {
	c, o := p.col, st.set.opts
	own := st.set.values[c.Name]
	short := fmt.Sprintf("strlen(%s) <= %d", x, f.maxText)
	match := func(re string) string { return fmt.Sprintf("regexp_full_match(%s, %s)", x, quoteLiteral(re)) }
	notOwn := func(v string) string {
		if len(own) == 0 {
			return ""
		}
		return fmt.Sprintf(" AND lower(%s) NOT IN (%s)", v, sqlList(slices.Sorted(maps.Keys(own))))
	}
	typedShort := ""
	if f.maxText < 32 {
		typedShort = " AND " + short
	}
	switch c.Kind {
	case Text:
		switch {
		case len(c.Enum) > 0:
			// normLower, then the value maps: an enumeration value that no
			// map turns into another.
			var allowed []string
			for _, v := range c.Enum {
				if m, ok := own[v]; ok && m != v {
					continue
				}
				if m, ok := c.Values[v]; ok && m != v {
					continue
				}
				allowed = append(allowed, v)
			}
			if len(allowed) == 0 {
				return "false", "NULL"
			}
			return fmt.Sprintf("strlen(%s) = length(%s) AND lower(%s) IN (%s)%s", x, x, x, sqlList(allowed), typedShort), "lower(" + x + ")"
		case c.Name == "currency":
			return match(`[A-Z]{3}`) + fmt.Sprintf(" AND %s <> 'RMB'", x) + typedShort, x
		case st.ent.keyLike(c):
			return match(reKey) + " AND " + short + notOwn(x), x
		default:
			trimmed := fmt.Sprintf("trim(%s, %s)", x, quoteLiteral(goSpace))
			if len(own) > 0 {
				return fmt.Sprintf("%s AND strlen(%s) = length(%s)%s", short, x, x, notOwn(trimmed)), "NULLIF(" + trimmed + ", '')"
			}
			return short, "NULLIF(" + trimmed + ", '')"
		}
	case Date:
		if len(o.layouts) > 0 {
			return "false", x
		}
		return match(reDate) + typedShort, x
	case Timestamp:
		if len(o.layouts) > 0 {
			return "false", x
		}
		zone := reZone + "?"
		if o.loc != nil {
			zone = reZone
		}
		// 2024-01-05T09:30:00Z is 2024-01-05 09:30:00+00:00 to Go and to
		// DuckDB's cast alike: the text is typed as written.
		return match(reDate+`[ T]`+reTime+zone) + typedShort, x
	case Money, Decimal, Integer:
		if o.decimalComma || (c.Percent && st.fraction[c.Name]) {
			return "false", x
		}
		prec, scale := 18, 2
		switch {
		case c.Kind == Integer:
			prec, scale = 9, 0
		case c.Kind == Decimal:
			prec, scale = 18, 4
			if c.SQLType != "" {
				fmt.Sscanf(c.SQLType, "DECIMAL(%d,%d)", &prec, &scale)
			}
		}
		maxInt := prec - scale
		if c.Kind == Money || c.Percent {
			maxInt = 16
		}
		re := fmt.Sprintf(`(0|-?[1-9]\d{0,%d})`, maxInt-1)
		if scale > 0 {
			re += fmt.Sprintf(`(\.\d{1,%d})?`, scale)
		}
		return match(re) + typedShort, x
	case Boolean:
		return fmt.Sprintf("%s IN ('true', 'false')", x), x
	}
	return "false", x
}

// rescan reads the rows of the file that satisfy cond (over the candidates,
// direct.go) again, in line order, and stages them through the Go parsers
// into stg_rest_E. Rows where quietCol is true were counted already (rows
// applied directly, taken back). It returns the number of those quiet rows.
func (l *loader) rescan(ctx context.Context, conn *sql.Conn, d *direct, es *entitySource, cond, quietCol string) (int64, error) {
	f := es.fast
	fields := make([]string, f.fields)
	for i := range fields {
		fields[i] = fmt.Sprintf("__f%d", i)
	}
	what := fmt.Sprintf("row_number() OVER (ORDER BY _line) AS _n, _line, %s AS _quiet, %s", quietCol, strings.Join(fields, ", "))
	if err := l.exec(ctx, conn, d.ent, "CREATE OR REPLACE TEMP TABLE stg_scan AS "+d.rowsOf(f.source(es.st), true, what, cond)); err != nil {
		return 0, err
	}
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM stg_scan").Scan(&n); err != nil {
		return 0, err
	}
	var quiet int64
	const page = 20000
	for from := int64(1); from <= n; from += page {
		rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT _line, _quiet, %s FROM stg_scan WHERE _n BETWEEN %d AND %d ORDER BY _n",
			strings.Join(fields, ", "), from, from+page-1))
		if err != nil {
			return 0, err
		}
		var buf []bufRow
		vals := make([]sql.NullString, f.fields)
		ptrs := make([]any, f.fields+2)
		var r bufRow
		ptrs[0], ptrs[1] = &r.line, &r.quiet
		for i := range vals {
			ptrs[2+i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return 0, err
			}
			rec := make([]string, f.fields)
			for i, v := range vals {
				rec[i] = v.String
			}
			buf = append(buf, bufRow{rec: rec, line: r.line, quiet: r.quiet})
			if r.quiet {
				quiet++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		if err := es.st.appendRows(conn, buf); err != nil {
			return 0, err
		}
	}
	_, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS stg_scan")
	return quiet, err
}

// colStats are the statistics the Go parsers keep per column (colPlan:
// nonEmpty, pctN, pctMax) for rows that did not pass through them.
type colStats struct {
	nonEmpty, pctN map[string]int64
	pctMax         map[string]float64
}

// statColumns are the planned columns whose statistics count.
func (st *stager) statColumns() (nouns, pcts []*colPlan) {
	for _, p := range st.plan {
		if p.src < 0 || p.noun == "" {
			continue
		}
		nouns = append(nouns, p)
		if p.col.Percent && !st.fraction[p.col.Name] {
			pcts = append(pcts, p)
		}
	}
	return nouns, pcts
}

// needsStats is true when the statistics of rows that did not pass through
// the Go parsers change what finish reports: a column with values the
// parsers refused (drift), or a percentage column.
func (st *stager) needsStats() bool {
	nouns, pcts := st.statColumns()
	if len(pcts) > 0 {
		return true
	}
	for _, p := range nouns {
		if p.failed > 0 {
			return true
		}
	}
	return false
}

// Where statsOf counts: the typed columns of a base table, the text of
// stg_rest, or the v_ columns of candidates.
const (
	inTable = iota
	inText
	inCandidates
)

// statsOf counts the values of the statistics columns in the rows of from.
func (l *loader) statsOf(ctx context.Context, conn *sql.Conn, st *stager, from string, in int) (*colStats, error) {
	out := &colStats{nonEmpty: map[string]int64{}, pctN: map[string]int64{}, pctMax: map[string]float64{}}
	nouns, pcts := st.statColumns()
	if len(nouns) == 0 {
		return out, nil
	}
	col := func(p *colPlan, typed bool) string {
		switch {
		case in == inCandidates:
			return "v_" + p.col.Name
		case in == inText && typed:
			return fmt.Sprintf("TRY_CAST(%s AS %s)", quoteIdent(p.col.Name), p.col.Kind.SQLType(p.col))
		}
		return quoteIdent(p.col.Name)
	}
	var sel []string
	for _, p := range nouns {
		sel = append(sel, fmt.Sprintf("count(%s)", col(p, false)))
	}
	for _, p := range pcts {
		sel = append(sel, fmt.Sprintf("count(%s)", col(p, true)), fmt.Sprintf("coalesce(CAST(max(%s) AS DOUBLE), 0)", col(p, true)))
	}
	vals := make([]any, len(sel))
	ints := make([]int64, len(nouns)+len(pcts))
	maxes := make([]float64, len(pcts))
	for i := range nouns {
		vals[i] = &ints[i]
	}
	for i := range pcts {
		vals[len(nouns)+2*i] = &ints[len(nouns)+i]
		vals[len(nouns)+2*i+1] = &maxes[i]
	}
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM (%s)", strings.Join(sel, ", "), from)).Scan(vals...); err != nil {
		return nil, err
	}
	for i, p := range nouns {
		out.nonEmpty[p.col.Name] = ints[i]
	}
	for i, p := range pcts {
		out.pctN[p.col.Name], out.pctMax[p.col.Name] = ints[len(nouns)+i], maxes[i]
	}
	return out, nil
}

// addTo adds the statistics to the stager's columns.
func (c *colStats) addTo(st *stager) {
	if c == nil {
		return
	}
	for _, p := range st.plan {
		p.nonEmpty += c.nonEmpty[p.col.Name]
		p.pctN += c.pctN[p.col.Name]
		p.pctMax = max(p.pctMax, c.pctMax[p.col.Name])
	}
}
