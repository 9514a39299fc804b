package etl

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/triscope/triscope/etl/csv"
	"github.com/triscope/triscope/etl/source"
	"github.com/triscope/triscope/warehouse"
)

// fileError is a problem with a whole source (a missing column, an unreadable
// file): the source cannot load, and the load reports it by name.
type fileError struct {
	src *input
	err error
}

func (e *fileError) Error() string { return fmt.Sprintf("%s: %v", e.src.name, e.err) }
func (e *fileError) Unwrap() error { return e.err }

func failFile(src *input, format string, args ...any) error {
	return &fileError{src: src, err: fmt.Errorf(format, args...)}
}

// stager reads one source's rows, maps and parses every field in Go, and
// streams the canonical text into the raw staging table.
type stager struct {
	src      *input
	ent      *Entity
	set      *settings
	traits   source.Traits
	maxText  int
	plan     []*colPlan
	header   []string
	rejects  []source.Reject
	unkeyed  int64 // rows refused before their key could be read
	read     int64
	blank    int64
	wide     int64 // spreadsheet rows with values right of the last header column
	fraction map[string]bool
	table    string // the staging table rows are appended to
	staged   int64  // rows appended to it
	// quiet: the rows being staged were read and counted once already (rows
	// applied directly and taken back to be deduplicated, direct.go): they
	// are not counted again, in read or in the columns' statistics.
	quiet bool
	// keys follows whether the keys of the rows staged into the raw table
	// are strictly increasing: then none repeats among the rows applied
	// directly (sortedAlone). keyVals is its scratch row.
	keys    *csv.KeyOrder
	keyVals [][]byte
	keyAt   []int // the plan indexes of the key's columns
}

// followKeys starts following the order of the staged rows' keys.
func (st *stager) followKeys() {
	var parts []csv.KeyPart
	for _, k := range st.ent.Key {
		for i, p := range st.plan {
			if p.col.Name == k && p.src >= 0 {
				if cmp := keyCompare(p); cmp != nil {
					parts = append(parts, csv.KeyPart{Field: i, Compare: cmp})
					st.keyAt = append(st.keyAt, i)
				}
			}
		}
	}
	if len(parts) == len(st.ent.Key) {
		st.keys, st.keyVals = csv.NewKeyOrder(parts), make([][]byte, len(st.plan))
	}
}

// keysSorted: the keys of the rows staged (and not refused in Go) were
// strictly increasing.
func (st *stager) keysSorted() bool { return st.keys.Sorted() }

// stageSource stages an input (stageInput), and once more from the start
// when its reader asks to (source.ErrReadAgain): what the first reading
// staged and reported is taken back first.
func stageSource(ctx context.Context, conn *sql.Conn, in *input, src source.Source, maxText int) (*stager, error) {
	saved := *in.report
	saved.Warnings, saved.Mapping = slices.Clone(saved.Warnings), slices.Clone(saved.Mapping)
	st, err := stageInput(ctx, conn, in, src, maxText)
	if !errors.Is(err, source.ErrReadAgain) {
		return st, err
	}
	*in.report = saved
	if _, err := conn.ExecContext(ctx, "DELETE FROM "+rawTable(in.entity)+" WHERE _file = $1", in.idx); err != nil {
		return nil, err
	}
	st, err = stageInput(ctx, conn, in, src, maxText)
	if errors.Is(err, source.ErrReadAgain) {
		err = failFile(in, "the reader could not read it twice the same way")
	}
	return st, err
}

// stageInput reads one input (a file, a sheet, a query) through its format's
// reader and the Go parsers into the raw staging table.
func stageInput(ctx context.Context, conn *sql.Conn, in *input, src source.Source, maxText int) (*stager, error) {
	st := &stager{src: in, ent: in.entity, set: in.set, maxText: maxText, table: rawTable(in.entity)}
	t, err := src.Open(ctx)
	if err != nil {
		return nil, failFile(in, "%v", err)
	}
	defer t.Close()
	st.traits = t.Traits()
	in.report.Encoding = st.traits.Encoding
	st.set.opts.excel = st.traits.Spreadsheet
	st.set.opts.date1904 = st.traits.Date1904
	rest, err := st.prepare(t)
	if err != nil {
		return st, err
	}
	st.followKeys()
	if err := st.stage(ctx, conn, t, rest); err != nil {
		return st, err
	}
	if err := st.finish(); err != nil {
		return st, err
	}
	return st, saveRejects(conn, in.idx, st.rejects)
}

type bufRow struct {
	rec    []string
	line   int64
	reason string
	quiet  bool // counted already (see stager.quiet)
}

const headerSearchRows = 10

// findHeader reads rows until the header: the first of the first ten rows
// naming at least two contract columns (or all of them, for a tiny entity).
// Title rows above it ("客户列表", "导出时间: …") are skipped. The rows read
// past the header are returned to be loaded.
func (st *stager) findHeader(t source.Table) ([]bufRow, error) {
	var buf []bufRow
	need := min(2, len(st.ent.Columns))
	pick := -1
	for len(buf) < headerSearchRows {
		row, err := t.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		rec, line := row.Fields, row.Line
		if rec == nil || isBlank(rec) {
			continue
		}
		buf = append(buf, bufRow{rec: append([]string(nil), rec...), line: line, reason: row.Reason})
		if st.traits.FixedHeader { // the column names
			pick = 0
			break
		}
		if st.set.headerRow > 0 {
			if line == int64(st.set.headerRow) {
				pick = len(buf) - 1
				break
			}
			if line > int64(st.set.headerRow) {
				return nil, fmt.Errorf("header_row %d is blank or inside a multi-line value", st.set.headerRow)
			}
			buf = buf[:len(buf)-1]
			continue
		}
		if headerScore(st.ent, st.set, rec) >= need {
			pick = len(buf) - 1
			break
		}
	}
	if len(buf) == 0 {
		return nil, errors.New("no header line: the file has no rows")
	}
	if pick < 0 {
		if st.set.headerRow > 0 {
			return nil, fmt.Errorf("header_row %d is beyond the end of the file", st.set.headerRow)
		}
		// No row looks like a header: take the first, so that the message
		// names what is missing from it.
		pick = 0
		bestScore := 0
		for i, r := range buf {
			if s := headerScore(st.ent, st.set, r.rec); s > bestScore {
				pick, bestScore = i, s
			}
		}
	}
	if pick > 0 {
		var titles []string
		for _, r := range buf[:pick] {
			titles = append(titles, truncateRunes(strings.Join(slices.Compact(nonEmpty(r.rec)), " "), 40))
		}
		st.src.report.Warnings = append(st.src.report.Warnings, fmt.Sprintf("the header is on line %d; %d line(s) above it were skipped as titles: %s",
			buf[pick].line, pick, strings.Join(titles, " | ")))
	}
	st.header = buf[pick].rec
	st.src.report.HeaderLine = buf[pick].line
	return buf[pick+1:], nil
}

func isBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func nonEmpty(rec []string) []string {
	var out []string
	for _, f := range rec {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// prepare finds the header and plans the columns.
func (st *stager) prepare(t source.Table) ([]bufRow, error) {
	rest, err := st.findHeader(t)
	if errors.Is(err, source.ErrReadAgain) {
		return nil, err
	}
	if err != nil {
		return nil, failFile(st.src, "%v", err)
	}
	plan, extra, warnings, err := planColumns(st.ent, st.header, st.set)
	if err != nil {
		return nil, failFile(st.src, "line %d: %v", st.src.report.HeaderLine, err)
	}
	st.plan = plan
	st.src.report.Warnings = append(st.src.report.Warnings, warnings...)
	for _, x := range extra {
		st.src.report.Warnings = append(st.src.report.Warnings, fmt.Sprintf("column %q is not part of %s and was ignored", x, st.ent.Name))
	}
	if st.fraction == nil {
		st.fraction = map[string]bool{}
	}
	for _, c := range st.set.fractions {
		st.fraction[c] = true
	}
	if ps, ok := t.(source.PercentSniffer); ok {
		var idx []int
		var cols []string
		for _, p := range plan {
			if p.col.Percent && p.src >= 0 && !st.fraction[p.col.Name] {
				idx, cols = append(idx, p.src), append(cols, p.col.Name)
			}
		}
		if len(idx) > 0 {
			pct, err := ps.PercentFormatted(idx, st.src.report.HeaderLine)
			if err != nil {
				return nil, failFile(st.src, "%v", err)
			}
			for i, j := range idx {
				if pct[j] {
					st.fraction[cols[i]] = true
				}
			}
		}
	}
	for _, p := range plan {
		if err := p.build(st.ent, st.set, st.fraction, st.traits.Typed); err != nil {
			return nil, failFile(st.src, "%v", err)
		}
		m := ColumnMapping{Column: p.col.Name, Source: p.header, How: p.how}
		if p.src >= 0 || p.how == "default" {
			st.src.report.Mapping = append(st.src.report.Mapping, m)
		}
	}
	return rest, nil
}

// batch is a block of staged rows handed from the parsing goroutine to the appender.
type batch struct {
	vals []driver.Value
	n    int
}

const batchRows = 2048

// stage streams the rows of t into the raw staging table. Parsing runs on its
// own goroutine, one batch ahead of DuckDB's appender.
func (st *stager) stage(ctx context.Context, conn *sql.Conn, t source.Table, rest []bufRow) error {
	width := 3 + len(st.plan)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan *batch, 4)
	free := make(chan *batch, 6)
	var perr error
	go func() {
		defer close(ch)
		perr = st.produce(ctx, t, rest, width, ch, free)
	}()
	cols := append([]string{"_file", "_line", "_pre"}, st.ent.ColumnNames()...)
	var cur *batch
	pos := 0
	_, err := warehouse.Append(conn, st.table, cols, func(row []driver.Value) (bool, error) {
		for cur == nil || pos == cur.n {
			if cur != nil {
				select {
				case free <- cur:
				default:
				}
			}
			b, ok := <-ch
			if !ok {
				cur = nil
				return false, nil
			}
			cur, pos = b, 0
		}
		copy(row, cur.vals[pos*width:(pos+1)*width])
		pos++
		return true, nil
	})
	if err != nil {
		cancel()
		for range ch { // let the producer finish
		}
		return err
	}
	for range ch {
	}
	return perr
}

// appendRows stages rows read apart from a table (the rows DuckDB's reader
// left to the Go parsers, fastcsv.go) into the staging table.
func (st *stager) appendRows(conn *sql.Conn, rows []bufRow) error {
	width := 3 + len(st.plan)
	vals := make([]driver.Value, width)
	i := 0
	cols := append([]string{"_file", "_line", "_pre"}, st.ent.ColumnNames()...)
	_, err := warehouse.Append(conn, st.table, cols, func(row []driver.Value) (bool, error) {
		for i < len(rows) {
			r := rows[i]
			i++
			st.quiet = r.quiet
			if st.row(r.rec, r.line, r.reason, vals) {
				copy(row, vals)
				return true, nil
			}
		}
		return false, nil
	})
	st.quiet = false
	return err
}

// finish checks what only the whole file tells (a column that changed
// type) and notes what the reader skipped.
func (st *stager) finish() error {
	st.src.report.Read = st.read
	if err := driftCheck(st.plan, st.read); err != nil {
		return failFile(st.src, "%v", err)
	}
	for _, p := range st.plan {
		if p.col.Percent && p.pctN >= 5 && p.pctMax > 0 && p.pctMax <= 1 {
			st.src.report.Warnings = append(st.src.report.Warnings, fmt.Sprintf(
				"every %s value is between 0 and 1, read as percentages (0.6 = 0.6 %%); if they are fractions (0.6 = 60 %%), declare percent_as_fraction: [%s] in the mapping",
				p.col.Name, p.col.Name))
		}
	}
	if st.read == 0 {
		st.src.report.Warnings = append(st.src.report.Warnings, "0 data rows: the file holds a header and no data")
	}
	if st.blank > 0 {
		st.src.report.Warnings = append(st.src.report.Warnings, fmt.Sprintf("%d blank line(s) were skipped", st.blank))
	}
	if st.wide > 0 {
		st.src.report.Warnings = append(st.src.report.Warnings, fmt.Sprintf("%d row(s) have values right of the last header column; those values were ignored", st.wide))
	}
	return nil
}

func (st *stager) produce(ctx context.Context, t source.Table, rest []bufRow, width int, ch chan<- *batch, free chan *batch) error {
	newBatch := func() *batch {
		select {
		case b := <-free:
			b.n = 0
			return b
		default:
			return &batch{vals: make([]driver.Value, batchRows*width)}
		}
	}
	b := newBatch()
	send := func() error {
		if b.n == 0 {
			return nil
		}
		select {
		case ch <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		b = newBatch()
		return nil
	}
	handle := func(rec []string, line int64, reason string) {
		if st.row(rec, line, reason, b.vals[b.n*width:(b.n+1)*width]) {
			b.n++
		}
	}
	for _, r := range rest {
		handle(r.rec, r.line, r.reason)
	}
	for n := 0; ; n++ {
		if n&0xFFF == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		row, err := t.Next()
		for _, r := range t.Pending() {
			st.read++
			st.unkeyed++
			st.rejects = append(st.rejects, r)
		}
		if err == io.EOF {
			break
		}
		if errors.Is(err, source.ErrReadAgain) {
			return err
		}
		if err != nil {
			return failFile(st.src, "line %d: %v", row.Line, err)
		}
		handle(row.Fields, row.Line, row.Reason)
		if b.n == batchRows {
			if err := send(); err != nil {
				return err
			}
		}
	}
	return send()
}

// row parses one source row into dst (_file, _line, _pre and the entity's
// columns). It is false when the row is not staged: a blank row, or a row
// refused as a whole (its reject is recorded).
func (st *stager) row(rec []string, line int64, reason string, dst []driver.Value) bool {
	count := !st.quiet
	if rec == nil {
		if reason != "" {
			if count {
				st.read++
			}
			st.unkeyed++
			st.rejects = append(st.rejects, source.Reject{Line: line, Reason: reason})
		}
		return false
	}
	if isBlank(rec) {
		if count {
			st.blank++
		}
		return false
	}
	if count {
		st.read++
	}
	nh := len(st.header)
	if len(rec) != nh {
		if st.traits.StrictWidth {
			st.unkeyed++
			st.rejects = append(st.rejects, source.Reject{Line: line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), nh), Value: source.Clip(strings.Join(rec, ","), 200)})
			return false
		}
		if len(rec) > nh && !isBlank(rec[nh:]) && count {
			st.wide++
		}
	}
	maxText := st.maxText
	if maxText <= 0 {
		maxText = source.DefaultMaxTextBytes
	}
	dst[0], dst[1] = int32(st.src.idx), line
	pre := false
	for i, p := range st.plan {
		var v any
		switch {
		case p.src >= 0 && p.src < len(rec):
			var pr problem
			f := rec[p.src]
			switch {
			case len(f) > maxText:
				pr = problem(fmt.Sprintf("the value is longer than the limit of %s for one value (MaxTextBytes)", source.Bytes(int64(maxText))))
				f = source.Clip(f, 100)
			case strings.IndexByte(f, 0) >= 0:
				pr = "holds a NUL character (\\x00): an export or encoding error; the row is not loaded"
				f = strings.ReplaceAll(source.Clip(f, 200), "\x00", `\x00`)
			default:
				v, pr = p.convert(f, count)
			}
			if pr != "" {
				// Staged as NULL: the value's problem is recorded here, and
				// SQL must not report it again (as an unknown reference).
				v, pre = nil, true
				st.rejects = append(st.rejects, source.Reject{Line: line, Column: p.col.Name, Value: f, Reason: string(pr)})
			}
		case p.how == "default":
			v = p.constant
		}
		dst[3+i] = v
	}
	dst[2] = pre
	st.staged++
	if st.keys != nil && !pre {
		// The canonical text of the key: what SQL compares.
		for _, i := range st.keyAt {
			st.keyVals[i] = st.keyVals[i][:0]
			if s, ok := dst[3+i].(string); ok {
				st.keyVals[i] = append(st.keyVals[i], s...)
			}
		}
		st.keys.Next(st.keyVals)
	}
	return true
}

// saveRejects appends the rows refused in Go to stg_rejects.
func saveRejects(conn *sql.Conn, idx int, rejects []source.Reject) error {
	if len(rejects) == 0 {
		return nil
	}
	i := 0
	_, err := warehouse.Append(conn, "stg_rejects", []string{"_file", "_line", "column", "value", "reason", "duplicate"}, func(row []driver.Value) (bool, error) {
		if i == len(rejects) {
			return false, nil
		}
		r := rejects[i]
		i++
		row[0], row[1], row[3], row[4], row[5] = int32(idx), r.Line, r.Value, r.Reason, false
		row[2] = nil
		if r.Column != "" {
			row[2] = r.Column
		}
		return true, nil
	})
	return err
}
