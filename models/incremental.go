package models

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// Incremental refresh: a refresh recomputes only what the loads since each
// model's last run can have changed. Every base row carries the load that
// last wrote it (_load_id; a snapshot marking a row deleted writes it too),
// and every model run records the last committed load it reflects
// (model_runs.load_id) and a fingerprint of what else it depends on (its
// code, settings, the base currency, the time zone, the facts' definitions).
// Per model, in run order, plan decides:
//
//   - full: asked for (--full); no earlier run to build on; another
//     fingerprint; the as-of date moved (backwards: the rows after it must go;
//     forwards: every model's figures are as of that date — recency, ages,
//     days overdue, what is due, the periods — so all of its rows change);
//     a snapshot load deleted rows it reads; stages, fx rates or the org tree
//     changed (they re-price, re-stage or re-parent rows far from those the
//     load touched); or its inputs changed and it has no incremental form.
//     A model whose result depends on every row (the CLV fits, RFM's
//     quantiles, ranks) has none: it recomputes in full when its inputs
//     changed, and model_runs.why says so.
//   - incremental: it would run in full, but its largest inputs are kept
//     across refreshes per key (cache.go: each deal's stages, each
//     contract's installments) and were brought up to date for the keys the
//     loads wrote instead of recomputed; the why says which.
//   - kept: nothing it reads changed since its last run (no base row with a
//     later _load_id, no mart it reads recomputed since) and the as-of date
//     is the same: its tables stay as they are.

// Run kinds recorded in model_runs.kind.
const (
	KindFull        = "full"
	KindIncremental = "incremental"
	KindKept        = "kept"
)

// forcingFull are the base tables whose change forces a full run of the
// models that read them.
var forcingFull = map[string]string{
	"stages":    "stages changed",
	"fx_rates":  "fx rates changed",
	"org_units": "the org tree changed",
}

// prevRun is the last successful run of a model.
type prevRun struct {
	refreshID   int64
	asOf        time.Time
	loadID      sql.NullInt64
	fingerprint string
	status      string
	message     string
	computedID  int64 // the last refresh that computed it (not kept)
}

// plan is how one model runs in this refresh.
type plan struct {
	kind, why string
	prev      *prevRun
}

// planRefresh decides how each of models (in run order) runs.
func planRefresh(ctx context.Context, conn *sql.Conn, models []*Model, asOf time.Time, lastLoad int64, opts RefreshOptions, zone string) (map[string]plan, map[string]string, error) {
	plans := map[string]plan{}
	fps := map[string]string{}
	prevs, err := readPrevRuns(ctx, conn)
	if err != nil {
		return nil, nil, err
	}
	maker := map[string]*Model{}
	for _, m := range All() {
		for _, t := range m.Tables {
			maker[t] = m
		}
	}
	changes := map[int64]map[string]tableChange{} // by the load a run reflects
	recomputed := map[string]bool{}               // models recomputed by this refresh
	for _, m := range models {
		fp := fingerprint(m, opts, zone)
		fps[m.Name] = fp
		p, kind, why := prevs[m.Name], KindFull, ""
		switch {
		case opts.Full:
			why = "asked for a full refresh (--full)"
		case p == nil || !p.loadID.Valid:
			why = "no earlier run to build on"
		case !tablesExist(ctx, conn, m.Tables):
			why = "its tables are missing"
		case p.fingerprint != fp:
			why = "its code, settings (or a file they name), base currency, time zone or the facts' definitions changed"
		case p.loadID.Int64 > lastLoad:
			why = fmt.Sprintf("its last run saw load %d, later than the last committed load %d (a restored backup?)", p.loadID.Int64, lastLoad)
		case asOf.Before(p.asOf):
			why = fmt.Sprintf("the as-of date moved backwards (%s → %s)", p.asOf.Format(time.DateOnly), asOf.Format(time.DateOnly))
		default:
			ch, ok := changes[p.loadID.Int64]
			if !ok {
				if ch, err = changesSince(ctx, conn, p.loadID.Int64); err != nil {
					return nil, nil, err
				}
				changes[p.loadID.Int64] = ch
			}
			var changed, deleted, forcing, marts []string
			for _, r := range m.Reads {
				if q, isMart := maker[r]; isMart {
					// recomputed by this refresh or since the model's last run,
					// or made outside any recorded run (by hand: unknown)
					if q != m && (recomputed[q.Name] || prevs[q.Name] == nil || prevs[q.Name].computedID > p.refreshID) && !slices.Contains(marts, q.Name) {
						marts = append(marts, q.Name)
					}
					continue
				}
				c := ch[r]
				if c.changed {
					changed = append(changed, r)
					if forcingFull[r] != "" {
						forcing = append(forcing, forcingFull[r])
					}
				}
				if c.deleted {
					deleted = append(deleted, r)
				}
			}
			switch {
			case len(forcing) > 0:
				why = strings.Join(forcing, ", ")
			case len(deleted) > 0:
				why = "a snapshot load deleted rows of " + strings.Join(deleted, ", ")
			case asOf.After(p.asOf):
				why = fmt.Sprintf("the as-of date moved forward (%s → %s): its figures are as of that date", p.asOf.Format(time.DateOnly), asOf.Format(time.DateOnly))
			case len(changed) == 0 && len(marts) == 0:
				kind = KindKept
				why = fmt.Sprintf("nothing it reads changed since refresh %d (load %d)", p.refreshID, p.loadID.Int64)
			default:
				var what []string
				if len(changed) > 0 {
					what = append(what, strings.Join(changed, ", "))
				}
				if len(marts) > 0 {
					what = append(what, "the results of "+strings.Join(marts, ", "))
				}
				why = "its inputs changed (" + strings.Join(what, "; ") + ") and it depends on all of them"
			}
		}
		if kind != KindKept {
			recomputed[m.Name] = true
		}
		plans[m.Name] = plan{kind: kind, why: why, prev: p}
	}
	return plans, fps, nil
}

// readPrevRuns reads each model's last successful run.
func readPrevRuns(ctx context.Context, conn *sql.Conn) (map[string]*prevRun, error) {
	out := map[string]*prevRun{}
	err := plScan(ctx, conn, `WITH ok AS (SELECT * FROM main.model_runs WHERE status IN ('ok', 'empty'))
		SELECT model, arg_max(refresh_id, refresh_id), arg_max(as_of, refresh_id), arg_max(load_id, refresh_id),
		       coalesce(arg_max(fingerprint, refresh_id), ''), arg_max(status, refresh_id), coalesce(arg_max(message, refresh_id), ''),
		       coalesce(max(refresh_id) FILTER (WHERE coalesce(kind, 'full') <> 'kept'), 0)
		FROM ok GROUP BY model`, func(r *sql.Rows) error {
		var name string
		p := &prevRun{}
		if err := r.Scan(&name, &p.refreshID, &p.asOf, &p.loadID, &p.fingerprint, &p.status, &p.message, &p.computedID); err != nil {
			return err
		}
		out[name] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the last model runs: %w", err)
	}
	return out, nil
}

// tableChange is what the loads after some load did to one base table.
type tableChange struct{ changed, deleted bool }

// changesSince reads, for every base table, whether a load after since
// wrote rows (inserted, updated, restored or marked deleted) and whether it
// marked any deleted. _load_id only grows, so DuckDB answers most of these
// from the row groups' min/max.
func changesSince(ctx context.Context, conn *sql.Conn, since int64) (map[string]tableChange, error) {
	var cols []string
	for _, e := range warehouse.Contract {
		cols = append(cols, fmt.Sprintf(`EXISTS (SELECT 1 FROM main.%[1]s WHERE _load_id > %[2]d),
			EXISTS (SELECT 1 FROM main.%[1]s WHERE _load_id > %[2]d AND _deleted_at IS NOT NULL)`, quoteIdent(e.Name), since))
	}
	vals := make([]bool, 2*len(warehouse.Contract))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := conn.QueryRowContext(ctx, "SELECT "+strings.Join(cols, ", ")).Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("looking at what the loads after load %d changed: %w", since, err)
	}
	out := map[string]tableChange{}
	for i, e := range warehouse.Contract {
		out[e.Name] = tableChange{changed: vals[2*i], deleted: vals[2*i+1]}
	}
	return out, nil
}

// tablesExist says whether main has every one of tables.
func tablesExist(ctx context.Context, conn *sql.Conn, tables []string) bool {
	for _, t := range tables {
		if s, err := martSchema(ctx, conn, t); err != nil || s != "main" {
			return false
		}
	}
	return true
}

// fingerprint identifies what a model's result depends on besides the data
// and the as-of date: the code (the embedded SQL and the binary), its
// settings (and what its Depends says), the base currency, the time zone
// and the facts' definitions.
func fingerprint(m *Model, opts RefreshOptions, zone string) string {
	settings, _ := json.Marshal(opts.Settings[m.Name]) // map keys sorted
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s", m.Name, codeVersion(), settings, opts.BaseCurrency, zone, FactsDefinition())
	if m.Depends != nil {
		fmt.Fprintf(h, "\x00%s", m.Depends(opts.Settings[m.Name]))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

var codeVersionOnce = sync.OnceValue(func() string {
	// The embedded SQL, and the binary by path, size and time: a rebuilt
	// binary recomputes everything once (cheaper than hashing its bytes,
	// and never wrong: at worst a full run more).
	h := sha256.New()
	fs.WalkDir(sqlFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := sqlFS.ReadFile(path)
			fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
			h.Write(b)
		}
		return nil
	})
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			fmt.Fprintf(h, "%s\x00%d\x00%d", exe, st.Size(), st.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
})

func codeVersion() string { return codeVersionOnce() }
