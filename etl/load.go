package etl

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/triscope/triscope/etl/source"
	"github.com/triscope/triscope/warehouse"
)

// Options tune a load.
type Options struct {
	Entity         string  // entity of every input (default: from the mapping, or each file or sheet name)
	MaxRejectShare float64 // a file with a larger share of bad rows fails the whole load (default 0.05)
	BaseCurrency   string  // default CNY
	Mapping        *Mapping
	Encoding       string   // declared encoding of text files (default: detected)
	Snapshot       []string // entities loaded as full snapshots ("all" for every entity)
	Force          bool     // apply a snapshot even when it is more than 30 % smaller than what the warehouse holds
	DryRun         bool     // do everything in the transaction, report, and roll back
	Source         string   // a PostgreSQL connection string; the mapping's tables: say what to read
	Logger         *slog.Logger
	// Progress is called with bytes read so far and the total, from the loading goroutine.
	Progress func(done, total int64)
	// AfterApply, when set, runs inside the load's transaction once its rows
	// are applied and recorded, just before it commits (not for a dry run or
	// a load that changed nothing): the runtime builds what is derived from
	// the base tables there (the facts), so that a load and what follows
	// from it commit together. An error rolls the load back.
	AfterApply func(ctx context.Context, conn *sql.Conn, rep *Report) error

	// Bounds on what one load may read and hold (0 = the default): a
	// hostile or broken input (a decompression bomb, a value of 50 MB, a
	// line without end) is refused or quarantined instead of taking the
	// machine's memory.
	MaxTextBytes  int   // longest value of a field; a row with a longer one is quarantined (default 64 KiB)
	MaxFileBytes  int64 // largest input file; a larger one fails the load (default 16 GiB)
	MaxUnzipBytes int64 // largest uncompressed size of an XLSX workbook (default 1 GiB)

	reader string // which reader reads CSV: readerAuto (per file), readerGo, readerDuckDB (fastcsv.go)
}

// DefaultMaxFileBytes is the default of Options.MaxFileBytes.
const DefaultMaxFileBytes = 16 << 30

// limits are the readers' bounds of a load.
func (o Options) limits() source.Limits {
	return source.Limits{MaxTextBytes: o.MaxTextBytes, MaxUnzipBytes: o.MaxUnzipBytes}.WithDefaults()
}

// FileReport is what happened to one input file (or sheet, or database query).
type FileReport struct {
	Path, Entity, Format, Encoding, SHA256 string
	Sheet                                  string // XLSX sheet (Path is file#sheet)
	Mode                                   string // incremental or snapshot
	HeaderLine                             int64  // the line the header was found on
	Mapping                                []ColumnMapping
	Reader                                 string // who read the rows: duckdb (DuckDB's CSV reader) or go
	ReaderNote                             string // for a CSV file Go read: why DuckDB did not
	Error                                  string // a problem with the whole file: it could not load
	Bytes                                  int64
	Read                                   int64 // data rows read
	Loaded                                 int64 // new keys inserted
	Updated                                int64 // existing keys whose values changed
	Unchanged                              int64 // existing keys with identical values
	Rejected                               int64 // rows quarantined
	Duplicates                             int64 // rows superseded by a later row with the same key
	DuplicateKeys                          int64 // distinct keys that appeared more than once
	Deleted                                int64 // rows a snapshot marked deleted (counted on the entity's first file)
	Restored                               int64 // deleted rows that reappeared and were undeleted
	Skipped                                bool  // identical content to the last load of this entity: not read again
	SameAsLoad                             int64
	RejectsCSV                             string
	Rejects                                []Reject // the first few, for display; all are in load_rejects and RejectsCSV
	Warnings                               []string
}

// Reject is one quarantined value.
type Reject struct {
	Line   int64
	Column string
	Value  string
	Reason string
}

// Report is the outcome of a load.
type Report struct {
	LoadID   int64
	Status   string // committed, unchanged, rejected, held, failed, dry-run
	Message  string
	Files    []*FileReport
	Warnings []string // about the load as a whole: sheets and files that were skipped
	DryRun   bool
	Elapsed  time.Duration
}

// Totals sums the file counts.
func (r *Report) Totals() (t FileReport) {
	for _, f := range r.Files {
		t.Read += f.Read
		t.Loaded += f.Loaded
		t.Updated += f.Updated
		t.Unchanged += f.Unchanged
		t.Rejected += f.Rejected
		t.Duplicates += f.Duplicates
		t.DuplicateKeys += f.DuplicateKeys
		t.Deleted += f.Deleted
		t.Restored += f.Restored
	}
	return t
}

// ErrTooManyRejects marks a load refused because a file had too many bad rows.
var ErrTooManyRejects = errors.New("too many bad rows")

// ErrHeld marks a load refused because a snapshot would delete too much.
var ErrHeld = errors.New("snapshot held back")

// ErrFiles marks a load refused because files could not be read as a whole.
var ErrFiles = errors.New("files could not be loaded")

var errDryRun = errors.New("dry run")

// snapshotShrinkLimit: a snapshot with fewer keys than this share of the rows
// the warehouse holds is held back unless forced; an export that lost a third
// of the customers is far more often a broken export than a business event.
const snapshotShrinkLimit = 0.7

const maxRejectsInReport = 20

// Load reads the files at paths (files or directories) and applies them to the
// warehouse as one transaction. A returned Report is always filled in as far
// as the load got, also when err is not nil.
func Load(ctx context.Context, w *warehouse.Warehouse, paths []string, opts Options) (*Report, error) {
	start := time.Now()
	if opts.MaxRejectShare == 0 {
		opts.MaxRejectShare = 0.05
	}
	if opts.BaseCurrency == "" {
		opts.BaseCurrency = "CNY"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	rep := &Report{DryRun: opts.DryRun}
	fail := func(err error) (*Report, error) {
		rep.Status, rep.Message = "failed", err.Error()
		rep.Elapsed = time.Since(start)
		return rep, err
	}
	var srcs []*input
	if len(paths) > 0 || opts.Source == "" {
		fileSrcs, notes, err := resolveSources(paths, opts)
		rep.Warnings = append(rep.Warnings, notes...)
		if err != nil {
			return fail(err)
		}
		srcs = fileSrcs
	}
	if opts.Source != "" {
		pg, err := resolvePostgres(opts)
		if err != nil {
			return fail(err)
		}
		srcs = append(srcs, pg...)
	}
	for i, s := range srcs {
		s.idx = i
	}
	sort.SliceStable(srcs, func(i, j int) bool { return entityOrder(srcs[i].entity.Name) < entityOrder(srcs[j].entity.Name) })
	for _, s := range srcs {
		rep.Files = append(rep.Files, s.report)
	}
	if err := markUnchanged(ctx, w, srcs); err != nil {
		return rep, err
	}
	var total int64
	for _, s := range srcs {
		if !s.report.Skipped {
			total += s.size
		}
	}
	var done atomic.Int64
	progress := func(n int64) {
		if opts.Progress != nil {
			opts.Progress(done.Add(n), total)
		}
	}

	l := &loader{w: w, opts: opts, rep: rep, progress: progress}
	err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		if err := conn.QueryRowContext(ctx, "SELECT nextval('load_id_seq')").Scan(&rep.LoadID); err != nil {
			return err
		}
		if err := l.run(ctx, conn, srcs, start); err != nil {
			return err
		}
		if opts.DryRun {
			return errDryRun
		}
		if opts.AfterApply != nil && rep.Status == "committed" {
			if err := opts.AfterApply(ctx, conn, rep); err != nil {
				return fmt.Errorf("after the load: %w", err)
			}
		}
		return nil
	})
	rep.Elapsed = time.Since(start)
	if errors.Is(err, errDryRun) {
		rep.Message = strings.TrimPrefix(rep.Message+"; ", "; ") + "dry run: nothing was changed"
		rep.Status = "dry-run"
		return rep, nil
	}
	if err == nil {
		return rep, nil
	}
	if rep.Status == "" || rep.Status == "committed" {
		rep.Status, rep.Message = "failed", err.Error()
	}
	if opts.DryRun {
		rep.Message += "; dry run: nothing was changed"
		return rep, err
	}
	// The data transaction rolled back. Record the attempt and its quarantine
	// (kept aside in a Parquet file before the rollback).
	if recErr := l.recordFailure(context.WithoutCancel(ctx), srcs, start); recErr != nil {
		opts.Logger.Warn("could not record the failed load", "err", recErr)
	}
	return rep, err
}

// writeTx runs fn in one transaction on the write lane, like
// warehouse.WriteTx, and holds lock (if any) while it commits.
// markUnchanged skips the entities whose files are byte-identical to the files
// of their last committed load: reading them again could change nothing.
func markUnchanged(ctx context.Context, w *warehouse.Warehouse, srcs []*input) error {
	byEntity := map[string][]*input{}
	for _, s := range srcs {
		byEntity[s.entity.Name] = append(byEntity[s.entity.Name], s)
	}
	for name, group := range byEntity {
		for _, s := range group {
			if s.format == formatPostgres {
				delete(byEntity, name) // a query's result is only known by running it
			}
		}
	}
	for name, group := range byEntity {
		var loadID sql.NullInt64
		var hashes sql.NullString
		err := w.DB().QueryRowContext(ctx, `
			SELECT f.load_id, string_agg(f.sha256, ',' ORDER BY f.sha256)
			FROM load_files f JOIN load_runs r USING (load_id)
			WHERE r.status = 'committed' AND f.entity = $1 AND f.status = 'loaded'
			GROUP BY f.load_id ORDER BY f.load_id DESC LIMIT 1`, name).Scan(&loadID, &hashes)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("checking earlier loads of %s: %w", name, err)
		}
		var mine []string
		for _, s := range group {
			mine = append(mine, s.sha256)
		}
		slices.Sort(mine)
		if strings.Join(mine, ",") == hashes.String {
			for _, s := range group {
				s.report.Skipped, s.report.SameAsLoad = true, loadID.Int64
			}
		}
	}
	return nil
}

type loader struct {
	w        *warehouse.Warehouse
	opts     Options
	rep      *Report
	progress func(int64)
	tooMany  []string
	held     []string
	fileErrs []string
	keep     string // parquet copy of the quarantine of a load that will roll back
}

func (l *loader) run(ctx context.Context, conn *sql.Conn, srcs []*input, start time.Time) error {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE stg_rejects (
		_file INTEGER, _line BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR, duplicate BOOLEAN);
		CREATE OR REPLACE TEMP TABLE stg_messy (_file INTEGER, _line BIGINT)`); err != nil {
		return err
	}
	var groups [][]*input
	for _, s := range srcs {
		if s.report.Skipped {
			continue
		}
		if n := len(groups); n > 0 && groups[n-1][0].entity == s.entity {
			groups[n-1] = append(groups[n-1], s)
		} else {
			groups = append(groups, []*input{s})
		}
	}
	for _, g := range groups {
		if err := l.loadEntity(ctx, conn, g, srcs); err != nil {
			return err
		}
		if !l.opts.DryRun && len(l.fileErrs)+len(l.held) > 0 {
			break // the load fails; a dry run goes on to report everything
		}
	}
	if err := l.collectRejects(ctx, conn, srcs); err != nil {
		return err
	}
	switch {
	case len(l.fileErrs) > 0:
		l.rep.Status = "failed"
		l.rep.Message = "nothing was loaded: " + strings.Join(l.fileErrs, "; ")
		return fmt.Errorf("%w: %s", ErrFiles, strings.Join(l.fileErrs, "; "))
	case len(l.tooMany) > 0:
		l.rep.Status = "rejected"
		where := "the rejects file"
		if l.opts.DryRun {
			where = "the report"
		}
		l.rep.Message = fmt.Sprintf("nothing was loaded: %s (limit %.1f%%; fix the rows listed in %s or raise --max-reject-share)",
			strings.Join(l.tooMany, "; "), l.opts.MaxRejectShare*100, where)
		return fmt.Errorf("%w: %s", ErrTooManyRejects, l.rep.Message)
	case len(l.held) > 0:
		l.rep.Status = "held"
		l.rep.Message = "nothing was loaded: " + strings.Join(l.held, "; ") + " (check the export; if the rows were really removed, load again with --force)"
		return fmt.Errorf("%w: %s", ErrHeld, l.rep.Message)
	}
	l.rep.Status = "committed"
	if len(groups) == 0 {
		l.rep.Status = "unchanged"
		l.rep.Message = "every file is identical to the last load of its entity; nothing to do"
	} else {
		t := l.rep.Totals()
		switch {
		case t.Read == 0:
			l.rep.Message = "0 data rows: the files hold a header and no data; nothing changed"
		case t.Loaded+t.Updated+t.Deleted+t.Restored == 0:
			l.rep.Message = "no row changed: every row equals what the warehouse holds"
		}
	}
	return l.record(ctx, conn, srcs, start)
}

// entitySource is one source of an entity being loaded.
type entitySource struct {
	in        *input
	st        *stager
	fast      *fastCSV // DuckDB reads it (fastcsv.go); nil: a Go reader staged it into stg_raw_E
	canonical bool     // its staged text is canonical (see typedExpr): not Parquet's typed text
	direct    int64    // rows applied directly (direct.go)
	restaged  int64    // of those, rows taken back to be deduplicated with the rest
	known     int64    // DuckDB: rows whose key the warehouse held, staged by SQL
	stats     *colStats
}

// loadEntity stages, validates, deduplicates and upserts all sources of one
// entity; for a snapshot it then marks the rows the sources no longer hold.
// Rows that can only be new and valid are applied directly (direct.go); the
// others go the general way (validation.run, upsert).
func (l *loader) loadEntity(ctx context.Context, conn *sql.Conn, srcs, all []*input) error {
	ent := srcs[0].entity
	if err := createStaging(ctx, conn, ent); err != nil {
		return fmt.Errorf("staging %s: %w", ent.Name, err)
	}
	refs, refWarnings := planRefs(ctx, conn, ent)
	d := &direct{ent: ent, refs: refs, preload: !tableEmpty(ctx, conn, ent.Name), loadID: l.rep.LoadID, base: l.opts.BaseCurrency}
	var ess []*entitySource
	var unkeyed int64
	snapshot := false
	for _, s := range srcs {
		l.opts.Logger.Debug("staging", "source", s.name, "entity", ent.Name, "format", s.format)
		es := &entitySource{in: s}
		var err error
		if s.pg != nil {
			err = readWatermark(ctx, conn, s.pg, ent.Name)
		}
		if err == nil {
			var fc *fastCSV
			var why string
			es.st, fc, why, err = l.openFast(ctx, s)
			switch {
			case err != nil:
			case fc != nil:
				es.fast, es.canonical = fc, true
				s.report.Reader = readerDuckDB
				if err = saveMessy(conn, s.idx, fc.messy); err != nil {
					return err
				}
				if es.direct, err = d.insert(ctx, conn, l, fc.source(es.st, false), true); err == nil && !anyDirect(ess) {
					// The only rows of this load in the table: count them there.
					es.stats, err = l.statsOf(ctx, conn, es.st, fmt.Sprintf("SELECT * FROM %s t WHERE %s", quoteIdent(ent.Name), d.mine()), inTable)
				}
				l.progress(s.size - s.credit)
			default:
				s.report.Reader, s.report.ReaderNote = readerGo, why
				var src source.Source
				if src, err = l.sourceOf(s); err == nil {
					es.st, err = stageSource(ctx, conn, s, src, l.opts.limits().MaxTextBytes)
					if progressAfter(s.format) {
						l.progress(s.size)
					}
				}
				es.canonical = es.st != nil && !es.st.traits.Typed
			}
		}
		if err == nil {
			ess = append(ess, es)
			snapshot = snapshot || s.set.mode == "snapshot"
			continue
		}
		var fe *fileError
		if !errors.As(err, &fe) {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := l.dropSource(ctx, conn, d, es, fe); err != nil {
			return err
		}
	}
	if len(ess) == 0 {
		return nil
	}
	// The rows the Go readers staged: those that can, straight in.
	for _, es := range ess {
		if es.fast == nil && es.st.staged > 0 {
			var err error
			if es.direct, err = d.insert(ctx, conn, l, rawSource(ent, es.in.idx), es.canonical); err != nil {
				return fmt.Errorf("applying %s: %w", ent.Name, err)
			}
		}
	}
	// Keys repeated among the rows applied directly are taken back.
	var direct int64
	for _, es := range ess {
		direct += es.direct
	}
	repeated := 0
	if direct > 1 && !sortedAlone(ess) {
		var err error
		if repeated, err = d.takeBack(ctx, conn, l, d.repeatedKeys()); err != nil {
			return fmt.Errorf("deduplicating %s: %w", ent.Name, err)
		}
	}
	// The rest: to stg_rest_E.
	kept := ess[:0]
	for _, es := range ess {
		if es.fast != nil {
			err := l.restOfFast(ctx, conn, d, es, repeated)
			var fe *fileError
			if errors.As(err, &fe) {
				if err := l.dropSource(ctx, conn, d, es, fe); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("%s: %w", es.in.name, err)
			}
		} else if es.direct < es.st.staged || repeated > 0 {
			src := rawSource(ent, es.in.idx)
			if _, err := l.execCount(ctx, conn, ent, fmt.Sprintf("INSERT INTO %s %s", restTable(ent),
				d.rowsOf(src, es.canonical, stagedColumns(ent), "NOT ("+easy+")"))); err != nil {
				return err
			}
			if repeated > 0 && es.direct > 0 {
				n, err := l.execCount(ctx, conn, ent, fmt.Sprintf("INSERT INTO %s %s", restTable(ent),
					d.rowsOf(src, es.canonical, stagedColumns(ent), easy+" AND "+d.conflict(repeated))))
				if err != nil {
					return err
				}
				es.restaged += n
			}
		}
		unkeyed += es.st.unkeyed
		kept = append(kept, es)
	}
	ess = kept
	if len(ess) == 0 {
		return nil
	}
	// Keys both applied directly and among the rest are taken back too.
	if direct > 0 && !tableEmpty(ctx, conn, restTable(ent)) {
		shared, err := d.takeBack(ctx, conn, l, d.sharedKeys())
		if err != nil {
			return fmt.Errorf("deduplicating %s: %w", ent.Name, err)
		}
		for _, es := range ess {
			if shared == 0 || es.direct == 0 {
				continue
			}
			var n int64
			if es.fast != nil {
				n, err = l.rescan(ctx, conn, d, es, easy+" AND "+d.conflict(shared), "true")
			} else {
				n, err = l.execCount(ctx, conn, ent, fmt.Sprintf("INSERT INTO %s %s", restTable(ent),
					d.rowsOf(rawSource(ent, es.in.idx), es.canonical, stagedColumns(ent), easy+" AND "+d.conflict(shared))))
			}
			if err != nil {
				return err
			}
			es.restaged += n
		}
	}
	var staged []*input
	for _, es := range ess {
		staged = append(staged, es.in)
		es.in.report.Loaded += es.direct - es.restaged
	}
	for _, warn := range refWarnings {
		for _, s := range staged {
			s.report.Warnings = append(s.report.Warnings, warn)
		}
	}
	if !snapshot && tableEmpty(ctx, conn, restTable(ent)) {
		return l.saveWatermarks(ctx, conn, staged) // every row was applied directly
	}
	names := map[int]string{}
	for _, s := range all {
		names[s.idx] = s.name
	}
	v := validation{ent: ent, base: l.opts.BaseCurrency, names: names, refs: refs}
	if err := v.run(ctx, conn, func(q string) error { return l.exec(ctx, conn, ent, q) }); err != nil {
		return fmt.Errorf("validating %s: %w", ent.Name, err)
	}
	if snapshot {
		if err := l.guardSnapshot(ctx, conn, staged); err != nil {
			return err
		}
	}
	if err := l.upsert(ctx, conn, staged); err != nil {
		return err
	}
	if snapshot {
		if err := l.markDeleted(ctx, conn, staged, unkeyed); err != nil {
			return err
		}
	}
	return l.saveWatermarks(ctx, conn, staged)
}

func (l *loader) saveWatermarks(ctx context.Context, conn *sql.Conn, staged []*input) error {
	for _, s := range staged {
		if s.pg != nil {
			if err := saveWatermark(ctx, conn, s.pg, s.entity.Name); err != nil {
				return fmt.Errorf("saving the watermark of %s: %w", s.name, err)
			}
		}
	}
	return nil
}

// sortedAlone is true when one source applied rows directly and its keys
// are strictly increasing (csv.ScanPlain, or the Go reader's stager): none
// repeats.
func sortedAlone(ess []*entitySource) bool {
	var with []*entitySource
	for _, es := range ess {
		if es.direct > 0 {
			with = append(with, es)
		}
	}
	if len(with) != 1 {
		return false
	}
	if es := with[0]; es.fast != nil {
		return es.fast.sorted
	}
	return with[0].st.keysSorted()
}

// saveMessy records the lines of a file DuckDB reads that hold a value that
// is not canonical: the Go parsers read them.
func saveMessy(conn *sql.Conn, idx int, lines []int64) error {
	if len(lines) == 0 {
		return nil
	}
	i := 0
	_, err := warehouse.Append(conn, "stg_messy", []string{"_file", "_line"}, func(row []driver.Value) (bool, error) {
		if i == len(lines) {
			return false, nil
		}
		row[0], row[1] = int32(idx), lines[i]
		i++
		return true, nil
	})
	return err
}

func anyDirect(ess []*entitySource) bool {
	for _, es := range ess {
		if es.direct > 0 {
			return true
		}
	}
	return false
}

// dropSource records a problem with a whole source and removes what it
// staged, and the rows it applied directly.
func (l *loader) dropSource(ctx context.Context, conn *sql.Conn, d *direct, es *entitySource, fe *fileError) error {
	s, ent := es.in, d.ent
	s.report.Error = fe.err.Error()
	l.fileErrs = append(l.fileErrs, fe.Error())
	for _, q := range []string{"DELETE FROM " + rawTable(ent) + " WHERE _file = $1", "DELETE FROM " + restTable(ent) + " WHERE _file = $1",
		"DELETE FROM stg_rejects WHERE _file = $1"} {
		if _, err := conn.ExecContext(ctx, q, s.idx); err != nil {
			return err
		}
	}
	if es.fast != nil && es.direct > 0 {
		// Its direct rows are the easy rows of the file whose keys were not
		// taken back: no other source applied them (keys are unique there).
		var keys []string
		for _, k := range ent.Key {
			keys = append(keys, "v_"+k)
		}
		var on []string
		for _, k := range ent.Key {
			on = append(on, fmt.Sprintf("t.%s = s.v_%s", quoteIdent(k), k))
		}
		if _, err := l.execCount(ctx, conn, ent, fmt.Sprintf("DELETE FROM %s t WHERE %s AND EXISTS (SELECT 1 FROM (%s) s WHERE %s)",
			quoteIdent(ent.Name), d.mine(), d.rowsOf(es.fast.source(es.st, false), true, strings.Join(keys, ", "), easy), strings.Join(on, " AND "))); err != nil {
			return err
		}
	}
	return nil
}

// restOfFast stages the rows of a file DuckDB reads that were not applied
// directly: rows whose key the warehouse holds (as text, by SQL), rows the
// Go parsers must read (again, by line), and the rows of keys taken back in
// round repeated. Then it checks the file as a whole, like the Go path.
func (l *loader) restOfFast(ctx context.Context, conn *sql.Conn, d *direct, es *entitySource, repeated int) error {
	f, st, ent := es.fast, es.st, d.ent
	src := f.source(st, true)
	if d.preload && es.direct < f.rows {
		n, err := l.execCount(ctx, conn, ent, fmt.Sprintf("INSERT INTO %s %s", restTable(ent), d.rowsOf(src, true, stagedColumns(ent), "_good AND _known")))
		if err != nil {
			return err
		}
		es.known = n
		if n > 0 {
			known, err := l.statsOf(ctx, conn, st, fmt.Sprintf("SELECT * FROM %s WHERE _file = %d", restTable(ent), es.in.idx), inText)
			if err != nil {
				return err
			}
			known.addTo(st)
		}
	}
	if es.direct+es.known < f.rows || repeated > 0 {
		cond := "NOT _good"
		if repeated > 0 {
			cond += " OR (" + easy + " AND " + d.conflict(repeated) + ")"
		}
		n, err := l.rescan(ctx, conn, d, es, cond, "_good")
		if err != nil {
			return err
		}
		es.restaged += n
	}
	st.read += es.direct + es.known
	if st.needsStats() {
		if es.stats == nil && es.direct > 0 {
			var err error
			if es.stats, err = l.statsOf(ctx, conn, st, d.rowsOf(src, true, "*", easy), inCandidates); err != nil {
				return err
			}
		}
		es.stats.addTo(st)
	}
	if err := st.finish(); err != nil {
		return err
	}
	return saveRejects(conn, es.in.idx, st.rejects)
}

// keyMatch is the SQL condition joining a base-table row t to a staged row s.
func keyMatch(ent *Entity) string {
	var on []string
	for _, k := range ent.Key {
		on = append(on, fmt.Sprintf("s.v_%s = t.%s", k, quoteIdent(k)))
	}
	return strings.Join(on, " AND ")
}

// guardSnapshot holds back a snapshot much smaller than what the warehouse holds.
func (l *loader) guardSnapshot(ctx context.Context, conn *sql.Conn, srcs []*input) error {
	ent := srcs[0].entity
	var live, keys int64
	var direct int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FILTER (WHERE _deleted_at IS NULL AND _load_id IS DISTINCT FROM %d), count(*) FILTER (WHERE _load_id = %d) FROM %s",
		l.rep.LoadID, l.rep.LoadID, quoteIdent(ent.Name))).Scan(&live, &direct); err != nil {
		return err
	}
	var kcols []string
	for _, k := range ent.Key {
		kcols = append(kcols, "v_"+k)
	}
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT DISTINCT %s FROM stg_typed)", strings.Join(kcols, ", "))).Scan(&keys); err != nil {
		return err
	}
	keys += direct // applied directly: unique keys, none of them staged
	if live == 0 || float64(keys) >= snapshotShrinkLimit*float64(live) {
		return nil
	}
	msg := fmt.Sprintf("the %s snapshot has %d rows, %.0f%% fewer than the %d the warehouse holds", ent.Name, keys, 100*(1-float64(keys)/float64(live)), live)
	if l.opts.Force {
		for _, s := range srcs {
			s.report.Warnings = append(s.report.Warnings, msg+"; applied because of --force")
		}
		return nil
	}
	for _, s := range srcs {
		s.report.Error = msg + "; held back (use --force to apply it)"
	}
	l.held = append(l.held, msg)
	return nil
}

// markDeleted sets _deleted_at on the rows of the entity that the snapshot
// does not contain. Rows the snapshot holds but that failed validation are
// not deleted: their key is in stg_typed. When a line could not be read far
// enough to know its key, nothing is marked: any row might be that line.
func (l *loader) markDeleted(ctx context.Context, conn *sql.Conn, srcs []*input, unkeyed int64) error {
	ent := srcs[0].entity
	var nullKeys []string
	for _, k := range ent.Key {
		nullKeys = append(nullKeys, "v_"+k+" IS NULL")
	}
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM stg_typed WHERE "+strings.Join(nullKeys, " OR ")).Scan(&n); err != nil {
		return err
	}
	if unkeyed+n > 0 {
		srcs[0].report.Warnings = append(srcs[0].report.Warnings, fmt.Sprintf(
			"%d line(s) of the snapshot could not be read far enough to know their key, so no %s row was marked deleted; fix those lines and load again", unkeyed+n, ent.Name))
		return nil
	}
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`UPDATE %s t SET _deleted_at = now(), _load_id = %d
		WHERE t._deleted_at IS NULL AND t._load_id IS DISTINCT FROM %d AND NOT EXISTS (SELECT 1 FROM stg_typed s WHERE %s)`,
		quoteIdent(ent.Name), l.rep.LoadID, l.rep.LoadID, keyMatch(ent)))
	if err != nil {
		return fmt.Errorf("marking deleted %s: %w", ent.Name, err)
	}
	srcs[0].report.Deleted, _ = res.RowsAffected()
	return nil
}

func (l *loader) upsert(ctx context.Context, conn *sql.Conn, srcs []*input) error {
	ent := srcs[0].entity
	table := quoteIdent(ent.Name)
	var on, differ, cols []string
	for _, k := range ent.Key {
		on = append(on, fmt.Sprintf("t.%s = s.%s", quoteIdent(k), quoteIdent(k)))
	}
	for _, c := range ent.Columns {
		cols = append(cols, quoteIdent(c.Name))
		if !slices.Contains(ent.Key, c.Name) {
			differ = append(differ, fmt.Sprintf("s.%s IS DISTINCT FROM t.%s", quoteIdent(c.Name), quoteIdent(c.Name)))
		}
	}
	change := "false"
	if len(differ) > 0 {
		change = strings.Join(differ, " OR ")
	}
	// A first load (or one whose keys are all new) skips the comparison.
	classify := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE stg_classified AS
			SELECT s.*, CASE WHEN t.%s IS NULL THEN 'new' WHEN t._deleted_at IS NOT NULL THEN 'restored' WHEN %s THEN 'changed' ELSE 'same' END AS _kind
			FROM stg_ok s LEFT JOIN %s t ON %s`, quoteIdent(ent.Key[0]), change, table, strings.Join(on, " AND "))
	source := "stg_classified"
	if tableEmpty(ctx, conn, ent.Name) {
		source = "stg_all_new"
		classify = "CREATE OR REPLACE TEMP VIEW stg_all_new AS SELECT *, 'new' AS _kind FROM stg_ok"
	}
	stmts := []string{
		classify,
		fmt.Sprintf(`DELETE FROM %s t USING %s s WHERE s._kind IN ('changed', 'restored') AND %s`, table, source, strings.Join(on, " AND ")),
		fmt.Sprintf(`INSERT INTO %s (%s, _load_id) SELECT %s, %d FROM %s WHERE _kind <> 'same'`,
			table, strings.Join(cols, ", "), strings.Join(cols, ", "), l.rep.LoadID, source),
	}
	for _, s := range stmts {
		if err := l.exec(ctx, conn, ent, s); err != nil {
			return fmt.Errorf("applying %s: %w", ent.Name, err)
		}
	}
	rows, err := conn.QueryContext(ctx, "SELECT _file, _kind, count(*) FROM "+source+" GROUP BY ALL")
	if err != nil {
		return err
	}
	defer rows.Close()
	byIdx := map[int]*FileReport{}
	for _, s := range srcs {
		byIdx[s.idx] = s.report
	}
	for rows.Next() {
		var idx int
		var kind string
		var n int64
		if err := rows.Scan(&idx, &kind, &n); err != nil {
			return err
		}
		fr := byIdx[idx]
		switch kind {
		case "new":
			fr.Loaded += n
		case "changed":
			fr.Updated += n
		case "same":
			fr.Unchanged += n
		case "restored":
			fr.Restored += n
		}
	}
	return rows.Err()
}

// collectRejects counts the quarantine per file, applies the threshold, keeps
// the first rejects for the report and writes each file's rejects CSV.
func (l *loader) collectRejects(ctx context.Context, conn *sql.Conn, srcs []*input) error {
	for _, s := range srcs {
		if s.report.Skipped {
			continue
		}
		fr := s.report
		err := conn.QueryRowContext(ctx, `SELECT
				count(DISTINCT _line) FILTER (WHERE NOT duplicate),
				count(DISTINCT _line) FILTER (WHERE duplicate),
				count(DISTINCT reason) FILTER (WHERE duplicate)
			FROM stg_rejects WHERE _file = $1`, s.idx).Scan(&fr.Rejected, &fr.Duplicates, &fr.DuplicateKeys)
		if err != nil {
			return err
		}
		rows, err := conn.QueryContext(ctx, `SELECT _line, coalesce("column", ''), coalesce(value, ''), reason
			FROM stg_rejects WHERE _file = $1 ORDER BY duplicate, _line, "column" LIMIT $2`, s.idx, maxRejectsInReport)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r Reject
			rows.Scan(&r.Line, &r.Column, &r.Value, &r.Reason)
			fr.Rejects = append(fr.Rejects, r)
		}
		rows.Close()
		if fr.Read > 0 && float64(fr.Rejected)/float64(fr.Read) > l.opts.MaxRejectShare {
			l.tooMany = append(l.tooMany, fmt.Sprintf("%s has %d bad rows of %d (%.1f%%)", s.name, fr.Rejected, fr.Read, 100*float64(fr.Rejected)/float64(fr.Read)))
		}
		out := rejectsPath(s)
		if l.opts.DryRun || out == "" {
			continue
		}
		if fr.Rejected+fr.Duplicates > 0 {
			fr.RejectsCSV = out
			// Values that a spreadsheet would evaluate (=cmd|..., +1+1, @SUM) get a
			// leading quote, so opening the quarantine in Excel is safe.
			copySQL := fmt.Sprintf(`COPY (SELECT %s AS file, _line AS line, "column",
					CASE WHEN regexp_matches(value, '^[=+@\t\r-]') AND TRY_CAST(value AS DOUBLE) IS NULL THEN '''' || value ELSE value END AS value,
					reason FROM stg_rejects WHERE _file = %d ORDER BY _line, "column")
				TO %s (HEADER, DELIMITER ',')`, quoteLiteral(s.name), s.idx, quoteLiteral(out))
			if _, err := conn.ExecContext(ctx, copySQL); err != nil {
				l.opts.Logger.Warn("could not write the rejects file beside the input", "file", out, "err", err)
				fr.RejectsCSV = ""
			}
		} else {
			os.Remove(out) // a stale quarantine from an earlier load would mislead
		}
	}
	if l.opts.DryRun || len(l.tooMany)+len(l.held)+len(l.fileErrs) == 0 {
		return nil
	}
	// The load will roll back: keep the quarantine aside to record it after.
	f, err := os.CreateTemp("", "triscope-rejects-*.parquet")
	if err != nil {
		return err
	}
	f.Close()
	l.keep = f.Name()
	_, err = conn.ExecContext(ctx, fmt.Sprintf(`COPY (SELECT _file, _line, "column", value, reason FROM stg_rejects WHERE NOT duplicate) TO %s (FORMAT parquet)`, quoteLiteral(l.keep)))
	return err
}

// rejectsPath is where a source's quarantine CSV goes: beside the input,
// FILE.rejects.csv (FILE.SHEET.rejects.csv for a sheet); none for a database.
func rejectsPath(s *input) string {
	if s.path == "" {
		return ""
	}
	base := strings.TrimSuffix(s.path, filepath.Ext(s.path))
	if s.sheet != "" {
		base += "." + strings.Map(func(r rune) rune {
			if strings.ContainsRune(`/\:*?"<>|`, r) {
				return '_'
			}
			return r
		}, s.sheet)
	}
	return base + ".rejects.csv"
}

// record writes load_runs, load_files and load_rejects inside the load's transaction.
func (l *loader) record(ctx context.Context, conn *sql.Conn, srcs []*input, start time.Time) error {
	t := l.rep.Totals()
	if _, err := conn.ExecContext(ctx, `INSERT INTO load_runs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		l.rep.LoadID, start, time.Now(), l.rep.Status, l.rep.Message, t.Read, t.Loaded, t.Updated+t.Restored, t.Unchanged, t.Rejected); err != nil {
		return fmt.Errorf("recording the load: %w", err)
	}
	for _, s := range srcs {
		fr := s.report
		status := "loaded"
		if fr.Skipped {
			status = "skipped"
		}
		if err := insertLoadFile(ctx, conn, l.rep.LoadID, fr, status, false); err != nil {
			return fmt.Errorf("recording the load: %w", err)
		}
		if !fr.Skipped {
			if _, err := conn.ExecContext(ctx, `INSERT INTO load_rejects SELECT $1, $2, $3, _line, "column", value, reason FROM stg_rejects WHERE _file = $4`,
				l.rep.LoadID, fr.Path, fr.Entity, s.idx); err != nil {
				return fmt.Errorf("recording the quarantine: %w", err)
			}
		}
	}
	return nil
}

func insertLoadFile(ctx context.Context, conn *sql.Conn, loadID int64, fr *FileReport, status string, failed bool) error {
	loaded, updated, unchanged, deleted := fr.Loaded, fr.Updated+fr.Restored, fr.Unchanged, fr.Deleted
	if failed {
		loaded, updated, unchanged, deleted = 0, 0, 0, 0
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO load_files (load_id, path, entity, format, encoding, sha256, bytes, rows_read,
			rows_loaded, rows_updated, rows_unchanged, rows_rejected, rows_duplicate, status, mode, rows_deleted)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		loadID, fr.Path, fr.Entity, fr.Format, fr.Encoding, fr.SHA256, fr.Bytes, fr.Read, loaded, updated,
		unchanged, fr.Rejected, fr.Duplicates, status, fr.Mode, deleted)
	return err
}

// recordFailure records a load whose data transaction rolled back, with the
// quarantine kept aside before the rollback.
func (l *loader) recordFailure(ctx context.Context, srcs []*input, start time.Time) error {
	if l.keep != "" {
		defer os.Remove(l.keep)
	}
	return l.w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		t := l.rep.Totals()
		if _, err := conn.ExecContext(ctx, `INSERT INTO load_runs VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, $7)`,
			l.rep.LoadID, start, time.Now(), l.rep.Status, l.rep.Message, t.Read, t.Rejected); err != nil {
			return err
		}
		for _, s := range srcs {
			if err := insertLoadFile(ctx, conn, l.rep.LoadID, s.report, l.rep.Status, true); err != nil {
				return err
			}
			if l.keep == "" {
				continue
			}
			if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO load_rejects SELECT $1, $2, $3, _line, "column", value, reason
				FROM read_parquet(%s) WHERE _file = $4`, quoteLiteral(l.keep)), l.rep.LoadID, s.report.Path, s.report.Entity, s.idx); err != nil {
				return err
			}
		}
		return nil
	})
}

// exec runs one loader statement and logs its time at debug level.
func (l *loader) exec(ctx context.Context, conn *sql.Conn, ent *Entity, q string) error {
	_, err := l.execResult(ctx, conn, ent, q)
	return err
}

func (l *loader) execResult(ctx context.Context, conn *sql.Conn, ent *Entity, q string) (sql.Result, error) {
	t0 := time.Now()
	res, err := conn.ExecContext(ctx, q)
	if err != nil {
		return nil, err
	}
	l.opts.Logger.Debug("loader step", "entity", ent.Name, "seconds", time.Since(t0).Seconds(), "sql", firstLine(q))
	return res, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}
