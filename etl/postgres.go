package etl

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL sources: a company's operational CRM database. Each tables rule
// of the mapping names an entity and a table or query; the rows stream as text
// (PostgreSQL's own text output, in a UTC session) through the same parsers,
// validation and quarantine as a CSV file, with the row ordinal as line and
// postgres://host:port/db#entity as file.
//
// Incremental extraction: a rule with a watermark column (usually updated_at)
// reads only the rows whose watermark is at or after the highest one the last
// committed load read; the new highest value is saved in source_watermarks in
// the load's own transaction, so a failed or killed load leaves it where it
// was and the next run resumes from there. ">=" re-reads the rows of the last
// instant (they come back unchanged) rather than miss rows committed later
// with the same timestamp. Rows deleted in the database are only seen by a
// snapshot (mode: snapshot), which reads the whole table.

type pgSource struct {
	dsn       string // with credentials: used to connect, never stored
	label     string // postgres://host:port/db, stored and shown
	rule      *Rule
	base      string // the rule's query, or SELECT * FROM table
	since     string // watermark of the last committed load ("" = everything)
	maxWM     string // highest watermark read in this load
	snapshot  bool
	ordinal   int64
	conn      *pgconn.PgConn
	rr        *pgconn.ResultReader
	wmIdx     int
	rowValues []string
}

// pgLabel is the connection string without credentials or options.
func pgLabel(dsn string) (string, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "", fmt.Errorf("--source: %w", err)
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "localhost"
	}
	return fmt.Sprintf("postgres://%s:%d/%s", host, cfg.Port, cfg.Database), nil
}

// resolvePostgres makes one source per tables rule of the mapping.
func resolvePostgres(opts Options) ([]*source, error) {
	if opts.Mapping == nil || len(opts.Mapping.Tables) == 0 {
		return nil, errors.New("--source needs a mapping file (--mapping) with a tables: list naming, per entity, the table or query to read")
	}
	label, err := pgLabel(opts.Source)
	if err != nil {
		return nil, err
	}
	var out []*source
	for _, r := range opts.Mapping.Tables {
		if r.Skip {
			continue
		}
		ent, err := EntityByName(r.Entity)
		if err != nil {
			return nil, err
		}
		set, err := opts.Mapping.settingsFor(r, ent, opts)
		if err != nil {
			return nil, err
		}
		base := r.Query
		if base == "" {
			var parts []string
			for _, p := range strings.Split(r.Table, ".") {
				parts = append(parts, quoteIdent(p))
			}
			base = "SELECT * FROM " + strings.Join(parts, ".")
		}
		h := sha256.Sum256([]byte(label + "#" + ent.Name + "#" + base))
		name := label + "#" + ent.Name
		src := &source{path: "", name: name, entity: ent, format: "postgres", sha256: hex.EncodeToString(h[:]), set: set,
			report: &FileReport{Path: name, Entity: ent.Name, Format: "postgres", SHA256: hex.EncodeToString(h[:]), Mode: set.mode},
			pg:     &pgSource{dsn: opts.Source, label: label, rule: r, base: strings.TrimRight(strings.TrimSpace(base), ";"), snapshot: set.mode == "snapshot", wmIdx: -1}}
		out = append(out, src)
	}
	return out, nil
}

// readWatermark fetches the watermark of the last committed load.
func (p *pgSource) readWatermark(ctx context.Context, conn *sql.Conn, entity string) error {
	if p.rule.Watermark == "" || p.snapshot {
		return nil
	}
	var wm sql.NullString
	err := conn.QueryRowContext(ctx, "SELECT watermark FROM source_watermarks WHERE source = $1 AND entity = $2", p.label, entity).Scan(&wm)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	p.since = wm.String
	return nil
}

// saveWatermark records the highest watermark read, in the load's transaction.
func (p *pgSource) saveWatermark(ctx context.Context, conn *sql.Conn, entity string) error {
	if p.rule.Watermark == "" || p.maxWM == "" {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM source_watermarks WHERE source = $1 AND entity = $2", p.label, entity); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, "INSERT INTO source_watermarks VALUES ($1, $2, $3, $4)", p.label, entity, p.maxWM, time.Now())
	return err
}

func (p *pgSource) query() (string, [][]byte) {
	wm := p.rule.Watermark
	if wm == "" {
		return p.base, nil
	}
	q := fmt.Sprintf("SELECT * FROM (%s) AS _triscope_src", p.base)
	var args [][]byte
	if p.since != "" && !p.snapshot {
		q += fmt.Sprintf(" WHERE %s >= $1 OR %s IS NULL", quoteIdent(wm), quoteIdent(wm))
		args = [][]byte{[]byte(p.since)}
	}
	return q + fmt.Sprintf(" ORDER BY %s NULLS FIRST", quoteIdent(wm)), args
}

// open connects and starts the query; rows are read as text.
func (p *pgSource) open(ctx context.Context, src *source) (tableReader, error) {
	conn, err := pgconn.Connect(ctx, p.dsn)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", p.label, err)
	}
	for _, set := range []string{"SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET default_transaction_read_only = on", "SET extra_float_digits = 1"} {
		if _, err := conn.Exec(ctx, set).ReadAll(); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("%s: %s: %w", p.label, set, err)
		}
	}
	q, args := p.query()
	rr := conn.ExecParams(ctx, q, args, nil, nil, []int16{0})
	fds := rr.FieldDescriptions()
	if fds == nil {
		_, err := rr.Close()
		conn.Close(ctx)
		if err == nil {
			err = errors.New("the query returns no columns")
		}
		return nil, fmt.Errorf("query for %s: %w", src.entity.Name, err)
	}
	p.conn, p.rr, p.ordinal = conn, rr, 0
	header := make([]string, len(fds))
	for i, fd := range fds {
		header[i] = fd.Name
		if p.rule.Watermark != "" && strings.EqualFold(fd.Name, p.rule.Watermark) {
			p.wmIdx = i
		}
	}
	if p.rule.Watermark != "" && p.wmIdx < 0 {
		p.close()
		return nil, fmt.Errorf("the watermark column %q is not in the result of the query", p.rule.Watermark)
	}
	src.set.headerRow = 0
	return &pgTable{p: p, header: header}, nil
}

func (p *pgSource) close() {
	if p.rr != nil {
		p.rr.Close()
		p.rr = nil
	}
	if p.conn != nil {
		p.conn.Close(context.Background())
		p.conn = nil
	}
}

// pgTable yields the header (as line 0) and then the rows of the query.
type pgTable struct {
	p          *pgSource
	header     []string
	sentHeader bool
	rec        []string
}

func (t *pgTable) next() ([]string, int64, string, error) {
	if !t.sentHeader {
		t.sentHeader = true
		return t.header, 0, "", nil
	}
	p := t.p
	if p.rr == nil || !p.rr.NextRow() {
		if p.rr != nil {
			_, err := p.rr.Close()
			p.rr = nil
			if err != nil {
				return nil, p.ordinal, "", fmt.Errorf("reading %s: %w", p.label, err)
			}
		}
		return nil, 0, "", io.EOF
	}
	p.ordinal++
	vals := p.rr.Values()
	if cap(t.rec) < len(vals) {
		t.rec = make([]string, len(vals))
	}
	t.rec = t.rec[:len(vals)]
	for i, v := range vals {
		t.rec[i] = string(v)
	}
	if p.wmIdx >= 0 && t.rec[p.wmIdx] != "" {
		p.maxWM = t.rec[p.wmIdx]
	}
	return t.rec, p.ordinal, "", nil
}

func (t *pgTable) pending() []lineReject { return nil }
func (t *pgTable) strictWidth() bool     { return true }
func (t *pgTable) close() error          { t.p.close(); return nil }
