package etl

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/triscope/triscope/etl/postgres"
)

// resolvePostgres makes one input per tables rule of the mapping (see
// etl/postgres): postgres://host:port/db#entity is its name and file.
func resolvePostgres(opts Options) ([]*input, error) {
	if opts.Mapping == nil || len(opts.Mapping.Tables) == 0 {
		return nil, errors.New("--source needs a mapping file (--mapping) with a tables: list naming, per entity, the table or query to read")
	}
	label, err := postgres.Label(opts.Source)
	if err != nil {
		return nil, err
	}
	var out []*input
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
		base := postgres.BaseQuery(r.Table, r.Query)
		h := sha256.Sum256([]byte(label + "#" + ent.Name + "#" + base))
		name := label + "#" + ent.Name
		in := &input{path: "", name: name, entity: ent, format: formatPostgres, sha256: hex.EncodeToString(h[:]), set: set,
			report: &FileReport{Path: name, Entity: ent.Name, Format: formatPostgres, SHA256: hex.EncodeToString(h[:]), Mode: set.mode},
			pg:     &postgres.Source{DSN: opts.Source, Label: label, Query: base, Watermark: r.Watermark, Snapshot: set.mode == "snapshot"}}
		out = append(out, in)
	}
	return out, nil
}

// readWatermark fetches the watermark of the last committed load.
func readWatermark(ctx context.Context, conn *sql.Conn, p *postgres.Source, entity string) error {
	if p.Watermark == "" || p.Snapshot {
		return nil
	}
	var wm sql.NullString
	err := conn.QueryRowContext(ctx, "SELECT watermark FROM source_watermarks WHERE source = $1 AND entity = $2", p.Label, entity).Scan(&wm)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	p.Since = wm.String
	return nil
}

// saveWatermark records the highest watermark read, in the load's transaction.
func saveWatermark(ctx context.Context, conn *sql.Conn, p *postgres.Source, entity string) error {
	if p.Watermark == "" || p.MaxWatermark() == "" {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM source_watermarks WHERE source = $1 AND entity = $2", p.Label, entity); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, "INSERT INTO source_watermarks VALUES ($1, $2, $3, $4)", p.Label, entity, p.MaxWatermark(), time.Now())
	return err
}
