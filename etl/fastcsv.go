package etl

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/triscope/triscope/etl/csv"
	"github.com/triscope/triscope/etl/parquet"
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
// precisely why they refuse one. DuckDB reads none of them: the scan
// (csv.ScanPlain, with check per column) recognises only values that are
// canonical — the text the Go parser would return, as written — and lists
// the lines holding any other value (messy). A column canonical on every
// line is declared to read_csv with its type, the others as VARCHAR and
// typed in SQL (source). Rows whose every value is canonical are candidates
// for direct application (direct.go); the others are read again, and only
// they, and go through the Go parsers like any row the Go reader reads
// (rescan). So both readers give the same rows, values and rejects
// (TestBothReadersGiveTheSameLoad).

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
	messy   []int64 // lines holding a value that is not canonical (see check)
	sorted  bool    // the keys of the other lines are strictly increasing: none repeats
	// types are the declared types of the fields: a typed column whose every
	// value is canonical is read as its type, like DuckDB's own bulk load;
	// the others as VARCHAR.
	types []string
}

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
	if _, err := st.prepare(t); err != nil {
		return st, nil, "", err
	}
	t.Close()
	f := &fastCSV{header: in.report.HeaderLine, fields: len(st.header), delim: byte(delim), maxText: lim.MaxTextBytes, maxLine: lim.MaxLineBytes}
	spec := csv.ScanSpec{Delim: f.delim, Header: f.header, Fields: f.fields, MaxLine: f.maxLine, Checks: make([]func([]byte) bool, f.fields)}
	for _, p := range st.plan {
		if p.src >= 0 {
			spec.Checks[p.src] = f.check(st, p)
		}
	}
	for _, k := range in.entity.Key {
		for _, p := range st.plan {
			if p.col.Name == k && p.src >= 0 {
				if cmp := keyCompare(p); cmp != nil {
					spec.Key = append(spec.Key, csv.KeyPart{Field: p.src, Compare: cmp})
				}
			}
		}
	}
	if len(spec.Key) != len(in.entity.Key) {
		spec.Key = nil
	}
	if l.opts.reader != readerDuckDB {
		// A file with many values not in canonical form (thousands
		// separators, other date forms) is read by Go alone: most of its
		// rows would be read twice. (The bound keeps the list of lines small.)
		spec.MaxMessy = 10_000_000
	}
	// The scan reads the file once, DuckDB's reader once more: the scan
	// counts for half of its bytes in the progress (the rest once DuckDB has
	// read it). If Go reads the file after all, its reader skips what the
	// scan reported (input.credit).
	var half int64
	spec.Progress = func(n int64) {
		if half+n > in.size/2 {
			n = max(in.size/2-half, 0)
		}
		if n > 0 {
			half += n
			l.progress(n)
		}
	}
	defer func() { in.credit = half }()
	t0 := time.Now()
	plain, err := csv.ScanPlain(in.path, spec)
	l.opts.Logger.Debug("scanned", "source", in.name, "seconds", time.Since(t0).Seconds(), "plain", plain.OK, "why", plain.Why,
		"rows", plain.Rows, "messy", len(plain.Messy), "sorted", plain.Sorted)
	if err != nil || !plain.OK {
		restore()
		return nil, nil, plain.Why, nil
	}
	if l.opts.reader != readerDuckDB && int64(len(plain.Messy))*5 > plain.Rows {
		restore()
		return nil, nil, fmt.Sprintf("%d of its %d rows hold values that are not in canonical form", len(plain.Messy), plain.Rows), nil
	}
	pattern, ok := exactPattern(ctx, l.w.DB(), in.path)
	if !ok {
		restore()
		return nil, nil, "its name cannot be handed to DuckDB exactly", nil
	}
	in.report.Encoding = plain.Encoding
	f.pattern, f.rows, f.ascii, f.messy, f.sorted = pattern, plain.Rows, plain.ASCII, plain.Messy, plain.Sorted
	f.types = make([]string, f.fields)
	for i := range f.types {
		f.types[i] = "VARCHAR"
	}
	for _, p := range st.plan {
		if p.src >= 0 && p.col.Kind != Text && !plain.MessyFields[p.src] {
			f.types[p.src] = p.col.Kind.SQLType(p.col)
		}
	}
	return st, f, "", nil
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

// How the file is read: typed (phase 1 and the choice of rows) or as text
// (the raw fields of the rows the Go parsers read again), numbered or not.
const (
	readTyped = 1 << iota
	readNumbered
)

// read is the read_csv call: no detection, every field declared, the header
// and the lines above it skipped; numbered: each record with its ordinal.
func (f *fastCSV) read(how int) string {
	cols := make([]string, f.fields)
	for i := range cols {
		t := "VARCHAR"
		if how&readTyped != 0 {
			t = f.types[i]
		}
		cols[i] = fmt.Sprintf("'__f%d': '%s'", i, t)
	}
	opts := fmt.Sprintf("auto_detect = false, header = false, skip = %d, delim = %s, quote = '\"', escape = '\"', strict_mode = true, columns = {%s}",
		f.header, quoteLiteral(string(f.delim)), strings.Join(cols, ", "))
	if f.maxLine > 2<<20 { // DuckDB's default
		opts += fmt.Sprintf(", max_line_size = %d, buffer_size = %d", f.maxLine+16, 4*(f.maxLine+16))
	}
	q := fmt.Sprintf("read_csv(%s, %s)", quoteLiteral(f.pattern), opts)
	if how&readNumbered != 0 {
		q += " WITH ORDINALITY"
	}
	return q
}

// source is the candidates' source (direct.go) for the file, read typed: its
// line (when numbered: numbering costs DuckDB as much as typing), the
// canonical value of every contract column, and whether all of it is
// canonical (_canon: the line is not among the messy ones the scan found).
func (f *fastCSV) source(st *stager, numbered bool) string {
	numbered = numbered || len(f.messy) > 0
	line := "NULL::BIGINT"
	if numbered {
		line = fmt.Sprintf("ordinality + %d", f.header)
	}
	sel := []string{fmt.Sprintf("%d AS _file", st.src.idx), line + " AS _line", "false AS _pre"}
	for _, p := range st.plan {
		name := quoteIdent(p.col.Name)
		switch {
		case p.src >= 0:
			// A canonical field is its value as the Go parser returns it.
			sel = append(sel, fmt.Sprintf("__f%d AS %s", p.src, name))
		case p.how == "default" && p.constant != nil:
			sel = append(sel, quoteLiteral(fmt.Sprint(p.constant))+" AS "+name)
		default:
			sel = append(sel, "NULL::VARCHAR AS "+name)
		}
	}
	canon := "true"
	if len(f.messy) > 0 {
		canon = fmt.Sprintf("NOT (%s IN (SELECT _line FROM stg_messy WHERE _file = %d))", line, st.src.idx)
	}
	sel = append(sel, canon+" AS _canon")
	how := readTyped
	if numbered {
		how |= readNumbered
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + f.read(how)
}

// spaceAtEnds is true when strings.TrimSpace would remove something.
func spaceAtEnds(b []byte) bool {
	r, _ := utf8.DecodeRune(b)
	l, _ := utf8.DecodeLastRune(b)
	return unicode.IsSpace(r) || unicode.IsSpace(l)
}

// check says whether a raw field is canonical: the Go parser would accept it
// and return it as it is (text with nothing to trim, an enumeration value in
// lower case, a currency in upper case). It is sound, not complete: a field
// it refuses is parsed by Go.
func (f *fastCSV) check(st *stager, p *colPlan) func([]byte) bool {
	c, o := p.col, st.set.opts
	own := st.set.values[c.Name]
	maxText := f.maxText
	fits := func(b []byte) bool { return len(b) <= maxText }
	notOwn := func(b []byte) bool {
		if len(own) == 0 {
			return true
		}
		_, mapped := own[strings.ToLower(strings.TrimSpace(string(b)))]
		return csv.IsASCII(b) && !mapped
	}
	switch c.Kind {
	case Text:
		switch {
		case len(c.Enum) > 0:
			// normLower, then the value maps: an enumeration value that no
			// map turns into another.
			var allowed [][]byte
			for _, v := range c.Enum {
				if m, ok := own[v]; ok && m != v {
					continue
				}
				if m, ok := c.Values[v]; ok && m != v {
					continue
				}
				allowed = append(allowed, []byte(v))
			}
			return func(b []byte) bool {
				for _, v := range allowed {
					if bytes.Equal(b, v) {
						return fits(b)
					}
				}
				return false
			}
		case c.Name == "currency":
			return func(b []byte) bool {
				return len(b) == 3 && fits(b) && isUpper(b[0]) && isUpper(b[1]) && isUpper(b[2]) && string(b) != "RMB"
			}
		case st.ent.keyLike(c):
			return func(b []byte) bool {
				if !fits(b) || b[0] == ' ' || b[len(b)-1] == ' ' {
					return false
				}
				for _, ch := range b {
					if ch < 0x20 || ch > 0x7e {
						return false
					}
				}
				return notOwn(b)
			}
		default:
			// As written: TrimSpace would change nothing.
			return func(b []byte) bool { return fits(b) && !spaceAtEnds(b) && notOwn(b) }
		}
	case Date:
		if len(o.layouts) > 0 {
			return never
		}
		return func(b []byte) bool { return fits(b) && isoDateShape(b) && validShapeDate(b) }
	case Timestamp:
		if len(o.layouts) > 0 {
			return never
		}
		needZone := o.loc != nil
		return func(b []byte) bool {
			_, zone, ok := timestampShape(b)
			return ok && fits(b) && (zone || !needZone) && validShapeDate(b[:10])
		}
	case Money, Decimal, Integer:
		if o.decimalComma || (c.Percent && st.fraction[c.Name]) {
			return never
		}
		scale, maxInt := numberShape(c)
		if c.Percent {
			// What DECIMAL(5,2) holds: the rest is out of range, which the
			// Go parser says.
			maxInt = 3
		}
		return func(b []byte) bool { return fits(b) && plainDecimal(string(b), scale, maxInt) }
	case Boolean:
		return func(b []byte) bool { return string(b) == "true" || string(b) == "false" }
	}
	return never
}

func never([]byte) bool { return false }

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// numberShape is the scale and the most digits before the point the Go
// parser accepts for a numeric column (see colPlan.build).
func numberShape(c Column) (scale, maxInt int) {
	prec := 18
	scale = 2
	switch {
	case c.Kind == Integer:
		prec, scale = 9, 0
	case c.Kind == Decimal:
		prec, scale = 18, 4
		if c.SQLType != "" {
			fmt.Sscanf(c.SQLType, "DECIMAL(%d,%d)", &prec, &scale)
		}
	}
	maxInt = prec - scale
	if c.Kind == Money || c.Percent {
		maxInt = 16
	}
	return scale, maxInt
}

// isoDateShape: YYYY-MM-DD in digits (whether the date exists is the SQL
// cast's and the rules' to say; the Go parser refuses it too).
func isoDateShape(b []byte) bool {
	return len(b) == 10 && b[4] == '-' && b[7] == '-' && isDigit(b[0]) && isDigit(b[1]) && isDigit(b[2]) && isDigit(b[3]) &&
		isDigit(b[5]) && isDigit(b[6]) && isDigit(b[8]) && isDigit(b[9])
}

// validShapeDate: the date of isoDateShape exists (and is one DuckDB reads
// as written: a four-digit year from 1000).
func validShapeDate(b []byte) bool {
	y := atoi(string(b[:4]))
	return y >= 1000 && validDate(y, int(b[5]-'0')*10+int(b[6]-'0'), int(b[8]-'0')*10+int(b[9]-'0'))
}

// timestampShape: YYYY-MM-DD, a space or T, hh:mm:ss (00:00:00 to
// 23:59:59) and an optional zone, Z or ±hh:mm (up to 14:59). The Go parser
// returns the same instant DuckDB's cast reads from such text (2024-01-05
// 09:30:00+00:00 for 2024-01-05T09:30:00Z), so the text is typed as written.
// With a zone, secs is the instant (Unix seconds).
func timestampShape(b []byte) (secs int64, zone, ok bool) {
	if len(b) < 19 || !isoDateShape(b[:10]) || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' ||
		!isDigit(b[11]) || !isDigit(b[12]) || !isDigit(b[14]) || !isDigit(b[15]) || !isDigit(b[17]) || !isDigit(b[18]) {
		return 0, false, false
	}
	hh, mm, ss := int(b[11]-'0')*10+int(b[12]-'0'), int(b[14]-'0')*10+int(b[15]-'0'), int(b[17]-'0')*10+int(b[18]-'0')
	if hh > 23 || mm > 59 || ss > 59 {
		return 0, false, false
	}
	var off int
	switch {
	case len(b) == 19:
		return 0, false, true
	case len(b) == 20 && b[19] == 'Z':
	case len(b) == 25 && (b[19] == '+' || b[19] == '-') && b[22] == ':' && isDigit(b[20]) && isDigit(b[21]) && isDigit(b[23]) && isDigit(b[24]):
		zh, zm := int(b[20]-'0')*10+int(b[21]-'0'), int(b[23]-'0')*10+int(b[24]-'0')
		if zh > 14 || zm > 59 {
			return 0, false, false
		}
		off = (zh*60 + zm) * 60
		if b[19] == '-' {
			off = -off
		}
	default:
		return 0, false, false
	}
	y := atoi(string(b[:4]))
	m, d := int(b[5]-'0')*10+int(b[6]-'0'), int(b[8]-'0')*10+int(b[9]-'0')
	return daysFromCivil(y, m, d)*86400 + int64(hh*3600+mm*60+ss) - int64(off), true, true
}

// daysFromCivil counts the days from 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// keyCompare orders canonical values of a key column as their typed values
// order, or is nil when it cannot (keys are then deduplicated in SQL).
func keyCompare(p *colPlan) func(a, b []byte) (int, bool) {
	c := p.col
	switch {
	case c.Kind == Text && len(c.Enum) > 0:
		return func(a, b []byte) (int, bool) { return bytes.Compare(bytes.ToLower(a), bytes.ToLower(b)), true }
	case c.Kind == Text, c.Kind == Date:
		return func(a, b []byte) (int, bool) { return bytes.Compare(a, b), true }
	case c.Kind == Integer:
		return func(a, b []byte) (int, bool) {
			x, errA := strconv.ParseInt(string(a), 10, 64)
			y, errB := strconv.ParseInt(string(b), 10, 64)
			if errA != nil || errB != nil {
				return 0, false
			}
			return cmp.Compare(x, y), true
		}
	case c.Kind == Timestamp:
		return func(a, b []byte) (int, bool) {
			x, za, okA := timestampShape(a)
			y, zb, okB := timestampShape(b)
			if !okA || !okB || !za || !zb {
				return 0, false // without a zone the instant is the session's to say
			}
			return cmp.Compare(x, y), true
		}
	}
	return nil
}

// rescan reads the rows of the file that satisfy cond (over the candidates,
// direct.go) again, in line order, and stages them through the Go parsers
// into stg_rest_E: the lines are chosen on the typed read (as phase 1 saw
// them), their raw text comes from a second read of every field as VARCHAR.
// Rows where quietCol is true were counted already (rows applied directly,
// taken back). It returns the number of those quiet rows.
func (l *loader) rescan(ctx context.Context, conn *sql.Conn, d *direct, es *entitySource, cond, quietCol string) (int64, error) {
	f := es.fast
	fields := make([]string, f.fields)
	for i := range fields {
		fields[i] = fmt.Sprintf("__f%d", i)
	}
	if err := l.exec(ctx, conn, d.ent, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE stg_scan_lines AS %s",
		d.rowsOf(f.source(es.st, true), true, "_line, "+quietCol+" AS _quiet", cond))); err != nil {
		return 0, err
	}
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM stg_scan_lines").Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	if err := l.exec(ctx, conn, d.ent, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE stg_scan AS
		SELECT row_number() OVER (ORDER BY s._line) AS _n, s._line, s._quiet, %s
		FROM stg_scan_lines s JOIN (SELECT ordinality + %d AS _line, * FROM %s) r ON r._line = s._line`,
		strings.Join(fields, ", "), f.header, f.read(readNumbered))); err != nil {
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
	_, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS stg_scan; DROP TABLE IF EXISTS stg_scan_lines")
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
