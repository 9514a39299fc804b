package synth

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/triscope/triscope/warehouse"
)

//go:embed daily.sql
var dailySQL string

// DailyConfig describes a daily load (DailyLoad).
type DailyConfig struct {
	Day   time.Time // the day of business; zero = the day after the latest day in the data
	Seed  int64
	Share float64 // the share of each table's rows the day adds or changes; 0 = 0.005
}

// DailyResult is what DailyLoad wrote.
type DailyResult struct {
	Day   time.Time
	Files []File
	Rows  int64
}

// dailyEntities are the entities a daily load carries, in the order of the
// data contract.
var dailyEntities = []string{"customers", "opportunities", "opportunity_stages", "contracts", "payments", "expenses", "activities"}

// DailyLoad writes, into outDir, one CSV per entity of a realistic day of
// business after the data in the warehouse that conn is a connection of:
// about Share of the rows (new payments and deals, stage moves that close
// some deals, contracts for the won ones, activities, expenses, a few edited
// customers and contracts), the same for the same warehouse and seed. It
// reads through schema live and leaves nothing behind on conn (its scratch
// tables are temporary and dropped). The files load with the ordinary
// loader, as incremental (upsert) loads.
func DailyLoad(ctx context.Context, conn *sql.Conn, cfg DailyConfig, outDir string) (DailyResult, error) {
	var res DailyResult
	if cfg.Share == 0 {
		cfg.Share = 0.005
	}
	if cfg.Share < 0 || cfg.Share > 0.5 {
		return res, fmt.Errorf("daily load: share %g out of range: give a share between 0 and 0.5", cfg.Share)
	}
	day := cfg.Day
	if day.IsZero() {
		var last sql.NullTime
		if err := conn.QueryRowContext(ctx, `SELECT max(d) FROM (
			SELECT max(paid_on) AS d FROM live.payments UNION ALL SELECT max(signed_on) FROM live.contracts
			UNION ALL SELECT CAST(max(created_at) AS DATE) FROM live.opportunities
			UNION ALL SELECT CAST(max(entered_at) AS DATE) FROM live.opportunity_stages)`).Scan(&last); err != nil {
			return res, fmt.Errorf("daily load: finding the last day: %w", err)
		}
		if !last.Valid {
			return res, fmt.Errorf("daily load: the warehouse holds no dated rows: load a company first")
		}
		day = last.Time.AddDate(0, 0, 1)
	}
	res.Day = day
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return res, fmt.Errorf("daily load: %w", err)
	}
	t, err := template.New("daily").Option("missingkey=error").Parse(dailySQL)
	if err != nil {
		return res, err
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]any{
		"Day": "DATE '" + day.Format(time.DateOnly) + "'", "Seed": cfg.Seed, "Share": fmt.Sprintf("%g", cfg.Share),
		"Tag": "D" + day.Format("20060102") + "-"}); err != nil {
		return res, err
	}
	defer func() {
		for _, e := range append([]string{"moves", "new_deals"}, dailyEntities...) {
			conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.main.dl_"+e)
		}
	}()
	for _, stmt := range warehouse.SplitStatements(b.String()) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return res, fmt.Errorf("daily load: %w", err)
		}
	}
	for _, name := range dailyEntities {
		ent, ok := warehouse.EntityOf(name)
		if !ok {
			return res, fmt.Errorf("daily load: no entity %s in the contract", name)
		}
		path := filepath.Join(outDir, name+".csv")
		n, err := writeDailyCSV(ctx, conn, ent, path)
		if err != nil {
			return res, fmt.Errorf("daily load: writing %s: %w", path, err)
		}
		st, err := os.Stat(path)
		if err != nil {
			return res, err
		}
		res.Files = append(res.Files, File{Entity: name, Path: path, Rows: n, Bytes: st.Size()})
		res.Rows += n
	}
	return res, nil
}

// writeDailyCSV writes temp table dl_<entity> as a CSV in the contract's
// columns: dates as YYYY-MM-DD, instants in UTC with their offset.
func writeDailyCSV(ctx context.Context, conn *sql.Conn, ent *warehouse.ContractEntity, path string) (int64, error) {
	var cols, header []string
	for _, c := range ent.Columns {
		q := `"` + c.Name + `"`
		switch c.Type {
		case warehouse.TypeDate:
			cols = append(cols, "strftime("+q+", '%Y-%m-%d')")
		case warehouse.TypeTimestamp:
			cols = append(cols, "strftime(timezone('UTC', "+q+"), '%Y-%m-%d %H:%M:%S') || '+00:00'")
		default:
			cols = append(cols, "CAST("+q+" AS VARCHAR)")
		}
		header = append(header, c.Name)
	}
	rows, err := conn.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM temp.main.dl_"+ent.Name+" ORDER BY ALL")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	if err := w.Write(header); err != nil {
		return 0, err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	rec := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range vals {
			rec[i] = v.String // NULL as an empty cell
		}
		if err := w.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return n, err
	}
	return n, f.Close()
}
