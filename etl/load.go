package etl

import (
	"context"
	"database/sql"
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

	"github.com/triscope/triscope/warehouse"
)

// Options tune a load.
type Options struct {
	Entity         string  // entity of every input (default: from each file name)
	MaxRejectShare float64 // a file with a larger share of bad rows fails the whole load (default 0.05)
	BaseCurrency   string  // default CNY
	Logger         *slog.Logger
	// Progress is called with bytes read so far and the total, from the loading goroutine.
	Progress func(done, total int64)
}

// FileReport is what happened to one input file.
type FileReport struct {
	Path, Entity, Format, Encoding, SHA256 string
	Bytes                                  int64
	Read                                   int64 // data rows read
	Loaded                                 int64 // new keys inserted
	Updated                                int64 // existing keys whose values changed
	Unchanged                              int64 // existing keys with identical values
	Rejected                               int64 // rows quarantined
	Duplicates                             int64 // rows superseded by a later row with the same key
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
	LoadID  int64
	Status  string // committed, unchanged, rejected, failed
	Message string
	Files   []*FileReport
	Elapsed time.Duration
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
	}
	return t
}

// ErrTooManyRejects marks a load refused because a file had too many bad rows.
var ErrTooManyRejects = errors.New("too many bad rows")

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
	rep := &Report{}
	srcs, err := resolveSources(paths, opts.Entity)
	if err != nil {
		rep.Status, rep.Message = "failed", err.Error()
		return rep, err
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
	err = w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		if err := conn.QueryRowContext(ctx, "SELECT nextval('load_id_seq')").Scan(&rep.LoadID); err != nil {
			return err
		}
		return l.run(ctx, conn, srcs, start)
	})
	rep.Elapsed = time.Since(start)
	if err == nil {
		return rep, nil
	}
	if rep.Status == "" {
		rep.Status, rep.Message = "failed", err.Error()
	}
	// The data transaction rolled back. Record the attempt and its quarantine
	// (read back from the reject CSVs written before the rollback).
	if recErr := l.recordFailure(context.WithoutCancel(ctx), srcs, start); recErr != nil {
		opts.Logger.Warn("could not record the failed load", "err", recErr)
	}
	return rep, err
}

// markUnchanged skips the entities whose files are byte-identical to the files
// of their last committed load: reading them again could change nothing.
func markUnchanged(ctx context.Context, w *warehouse.Warehouse, srcs []*source) error {
	byEntity := map[string][]*source{}
	for _, s := range srcs {
		byEntity[s.entity.Name] = append(byEntity[s.entity.Name], s)
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
}

func (l *loader) run(ctx context.Context, conn *sql.Conn, srcs []*source, start time.Time) error {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE stg_rejects (
		_file INTEGER, _line BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR, duplicate BOOLEAN)`); err != nil {
		return err
	}
	var groups [][]*source
	for _, s := range srcs {
		if s.report.Skipped {
			continue
		}
		if n := len(groups); n > 0 && groups[n-1][0].entity == s.entity {
			groups[n-1] = append(groups[n-1], s)
		} else {
			groups = append(groups, []*source{s})
		}
	}
	for _, g := range groups {
		if err := l.loadEntity(ctx, conn, g); err != nil {
			return err
		}
	}
	if err := l.collectRejects(ctx, conn, srcs); err != nil {
		return err
	}
	if len(l.tooMany) > 0 {
		l.rep.Status = "rejected"
		l.rep.Message = fmt.Sprintf("nothing was loaded: %s (limit %.1f%%; fix the rows listed in the rejects file or raise --max-reject-share)",
			strings.Join(l.tooMany, "; "), l.opts.MaxRejectShare*100)
		return fmt.Errorf("%w: %s", ErrTooManyRejects, l.rep.Message)
	}
	l.rep.Status = "committed"
	if len(groups) == 0 {
		l.rep.Status = "unchanged"
		l.rep.Message = "every file is identical to the last load of its entity; nothing to do"
	} else {
		t := l.rep.Totals()
		if t.Loaded+t.Updated == 0 {
			l.rep.Message = "no row changed: every row equals what the warehouse holds"
		}
	}
	return l.record(ctx, conn, srcs, start)
}

// loadEntity stages, validates, deduplicates and upserts all files of one entity.
func (l *loader) loadEntity(ctx context.Context, conn *sql.Conn, srcs []*source) error {
	ent := srcs[0].entity
	if err := createRaw(ctx, conn, ent); err != nil {
		return fmt.Errorf("staging %s: %w", ent.Name, err)
	}
	for _, s := range srcs {
		l.opts.Logger.Debug("staging", "file", s.path, "entity", ent.Name, "format", s.format)
		switch s.format {
		case "csv":
			rejects, err := stageCSV(ctx, conn, s, l.progress)
			if err != nil {
				return err
			}
			for _, r := range rejects {
				if _, err := conn.ExecContext(ctx, "INSERT INTO stg_rejects VALUES ($1, $2, NULL, $3, $4, false)", s.idx, r.line, r.value, r.reason); err != nil {
					return err
				}
			}
		default:
			if err := stageDuck(ctx, conn, s); err != nil {
				return err
			}
			l.progress(s.size)
		}
	}
	v := validation{ent: ent, base: l.opts.BaseCurrency}
	if err := v.run(ctx, conn, func(q string) error { return l.exec(ctx, conn, ent, q) }); err != nil {
		return fmt.Errorf("validating %s: %w", ent.Name, err)
	}
	for _, warn := range v.warnings {
		for _, s := range srcs {
			s.report.Warnings = append(s.report.Warnings, warn)
		}
	}
	return l.upsert(ctx, conn, srcs)
}

func (l *loader) upsert(ctx context.Context, conn *sql.Conn, srcs []*source) error {
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
			SELECT s.*, CASE WHEN t.%s IS NULL THEN 'new' WHEN %s THEN 'changed' ELSE 'same' END AS _kind
			FROM stg_ok s LEFT JOIN %s t ON %s`, quoteIdent(ent.Key[0]), change, table, strings.Join(on, " AND "))
	source := "stg_classified"
	if tableEmpty(ctx, conn, ent.Name) {
		source = "stg_all_new"
		classify = "CREATE OR REPLACE TEMP VIEW stg_all_new AS SELECT *, 'new' AS _kind FROM stg_ok"
	}
	stmts := []string{
		classify,
		fmt.Sprintf(`DELETE FROM %s t USING %s s WHERE s._kind = 'changed' AND %s`, table, source, strings.Join(on, " AND ")),
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
			fr.Loaded = n
		case "changed":
			fr.Updated = n
		case "same":
			fr.Unchanged = n
		}
	}
	return rows.Err()
}

// collectRejects counts the quarantine per file, applies the threshold, and
// keeps the first rejects for the report.
func (l *loader) collectRejects(ctx context.Context, conn *sql.Conn, srcs []*source) error {
	for _, s := range srcs {
		if s.report.Skipped {
			continue
		}
		fr := s.report
		err := conn.QueryRowContext(ctx, `SELECT
				count(DISTINCT _line) FILTER (WHERE NOT duplicate),
				count(DISTINCT _line) FILTER (WHERE duplicate)
			FROM stg_rejects WHERE _file = $1`, s.idx).Scan(&fr.Rejected, &fr.Duplicates)
		if err != nil {
			return err
		}
		rows, err := conn.QueryContext(ctx, `SELECT _line, coalesce("column", ''), coalesce(value, ''), reason
			FROM stg_rejects WHERE _file = $1 ORDER BY duplicate, _line LIMIT $2`, s.idx, maxRejectsInReport)
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
			l.tooMany = append(l.tooMany, fmt.Sprintf("%s has %d bad rows of %d (%.1f%%)", s.path, fr.Rejected, fr.Read, 100*float64(fr.Rejected)/float64(fr.Read)))
		}
		if fr.Rejected+fr.Duplicates > 0 {
			fr.RejectsCSV = rejectsPath(s.path)
			copySQL := fmt.Sprintf(`COPY (SELECT %s AS file, _line AS line, "column", value, reason FROM stg_rejects WHERE _file = %d ORDER BY _line, "column")
				TO %s (HEADER, DELIMITER ',')`, quoteLiteral(s.path), s.idx, quoteLiteral(fr.RejectsCSV))
			if _, err := conn.ExecContext(ctx, copySQL); err != nil {
				l.opts.Logger.Warn("could not write the rejects file beside the input", "file", fr.RejectsCSV, "err", err)
				fr.RejectsCSV = ""
			}
		} else {
			os.Remove(rejectsPath(s.path)) // a stale quarantine from an earlier load would mislead
		}
	}
	return nil
}

func rejectsPath(input string) string {
	return strings.TrimSuffix(input, filepath.Ext(input)) + ".rejects.csv"
}

// record writes load_runs, load_files and load_rejects inside the load's transaction.
func (l *loader) record(ctx context.Context, conn *sql.Conn, srcs []*source, start time.Time) error {
	t := l.rep.Totals()
	if _, err := conn.ExecContext(ctx, `INSERT INTO load_runs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		l.rep.LoadID, start, time.Now(), l.rep.Status, l.rep.Message, t.Read, t.Loaded, t.Updated, t.Unchanged, t.Rejected); err != nil {
		return fmt.Errorf("recording the load: %w", err)
	}
	for _, s := range srcs {
		fr := s.report
		status := "loaded"
		if fr.Skipped {
			status = "skipped"
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO load_files VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			l.rep.LoadID, fr.Path, fr.Entity, fr.Format, fr.Encoding, fr.SHA256, fr.Bytes, fr.Read, fr.Loaded, fr.Updated,
			fr.Unchanged, fr.Rejected, fr.Duplicates, status); err != nil {
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

// recordFailure records a load whose data transaction rolled back, with the
// quarantine read back from the reject files written before the rollback.
func (l *loader) recordFailure(ctx context.Context, srcs []*source, start time.Time) error {
	return l.w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		t := l.rep.Totals()
		if _, err := conn.ExecContext(ctx, `INSERT INTO load_runs VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, $7)`,
			l.rep.LoadID, start, time.Now(), l.rep.Status, l.rep.Message, t.Read, t.Rejected); err != nil {
			return err
		}
		for _, s := range srcs {
			fr := s.report
			if _, err := conn.ExecContext(ctx, `INSERT INTO load_files VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, $9, $10, $11)`,
				l.rep.LoadID, fr.Path, fr.Entity, fr.Format, fr.Encoding, fr.SHA256, fr.Bytes, fr.Read, fr.Rejected, fr.Duplicates, l.rep.Status); err != nil {
				return err
			}
			if fr.RejectsCSV == "" {
				continue
			}
			if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO load_rejects SELECT $1, file, $2, line, "column", value, reason
				FROM read_csv(%s, header = true, columns = {'file': 'VARCHAR', 'line': 'BIGINT', 'column': 'VARCHAR', 'value': 'VARCHAR', 'reason': 'VARCHAR'})`,
				quoteLiteral(fr.RejectsCSV)), l.rep.LoadID, fr.Entity); err != nil {
				return err
			}
		}
		return nil
	})
}

// exec runs one loader statement and logs its time at debug level.
func (l *loader) exec(ctx context.Context, conn *sql.Conn, ent *Entity, q string) error {
	t0 := time.Now()
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return err
	}
	l.opts.Logger.Debug("loader step", "entity", ent.Name, "seconds", time.Since(t0).Seconds(), "sql", firstLine(q))
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}
