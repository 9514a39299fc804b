package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// The pipeline model writes the persistent table macro pipeline_at(d) (the
// open pipeline as it stood on any day, rebuilt from the stage history), the
// current pipeline (mart_pipeline) and the deals past their expected close
// (mart_slippage). The other pipeline models (win_rate, funnel, forecast,
// collision, alerts) share the temp tables of pipeline_prep.sql, built by
// plPrep. See docs/models/pipeline.md.
func init() {
	register(&Model{
		Name:   "pipeline",
		Reads:  pipelineInputs,
		Needs:  []string{"opportunities"},
		Tables: []string{"mart_pipeline", "mart_slippage"},
		Run: func(ctx context.Context, rc *RunContext) error {
			if err := plMacro(ctx, rc); err != nil {
				return err
			}
			return rc.Exec(ctx, "pipeline.sql", nil)
		},
	})
}

// plMacro (re)creates pipeline_at in the warehouse. It reads the facts
// (facts.opportunities) and the live stage history.
func plMacro(ctx context.Context, rc *RunContext) error {
	return rc.Exec(ctx, "pipeline_macro.sql", nil)
}

// pipelineInputs are the base tables the pipeline models read through the
// shared temp tables of pipeline_prep.sql, the facts and pipeline_at.
var pipelineInputs = []string{"org_units", "reps", "customers", "products", "partners", "opportunities",
	"opportunity_stages", "stages", "targets", "campaigns", "activities", "payment_schedule", "contracts",
	"payments", "fx_rates"}

// plPrep builds the pl_* temp tables of pipeline_prep.sql once per refresh
// (the first pipeline model of a refresh builds them, the others reuse them):
// the refresh id and the as-of date tell whether the tables on this
// connection are current. They are kept until the refresh ends.
func plPrep(ctx context.Context, rc *RunContext) error {
	if _, err := rc.Conn.ExecContext(ctx, "CREATE TEMP TABLE IF NOT EXISTS pl_prep_marker (refresh_id BIGINT, as_of DATE)"); err != nil {
		return err
	}
	var current bool
	if err := rc.Conn.QueryRowContext(ctx,
		"SELECT count(*) > 0 FROM pl_prep_marker WHERE refresh_id = $1 AND refresh_id > 0 AND as_of = getvariable('as_of')", rc.refreshID).Scan(&current); err != nil {
		return err
	}
	if current {
		return nil
	}
	if err := rc.Exec(ctx, "pipeline_prep.sql", nil); err != nil {
		return err
	}
	if err := plDealStages(ctx, rc); err != nil {
		return err
	}
	if err := rc.Exec(ctx, "pipeline_deal_reach.sql", nil); err != nil {
		return err
	}
	if _, err := rc.Conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE pl_prep_marker AS SELECT CAST($1 AS BIGINT) AS refresh_id, getvariable('as_of') AS as_of", rc.refreshID); err != nil {
		return err
	}
	return rc.keepTempTables(ctx)
}

// plDealStagesDirect computes pl_deal_stages from the stage history of
// every deal, at as_of.
var plDealStagesDirect = map[string]any{"Deals": "pl_deals", "Into": "pl_deal_stages", "Until": "getvariable('as_of')"}

// plDealStages makes pl_deal_stages, the largest shared input of the
// pipeline models (a window over the whole stage history: 28.6 M rows and
// about 28 s of a large company's refresh). When as_of is on or after every
// date of the deals and their history (the default as-of date always is),
// a deal's stages depend on as_of only through the stay it is still in, so
// they are kept across refreshes in model_cache.deal_stages (that stay runs
// until a far day there and is moved back to as_of when read,
// pipeline_stage_cache.sql), and a refresh recomputes only the deals the
// loads since wrote (their row or history: _load_id). The cache is rebuilt
// whole when it is missing, its definitions or the time zone changed, the
// stages changed, or it saw a load later than the last committed one; a
// --full refresh, or an as-of date before some of the data, computes the
// table directly and leaves the cache alone.
func plDealStages(ctx context.Context, rc *RunContext) error {
	if rc.full {
		return rc.Exec(ctx, "pipeline_deal_stages.sql", plDealStagesDirect)
	}
	var usable bool
	if err := rc.Conn.QueryRowContext(ctx, `SELECT coalesce(getvariable('as_of') >= (SELECT max(d) FROM (
			SELECT CAST(max(entered_at) AS DATE) AS d FROM live.opportunity_stages
			UNION ALL SELECT CAST(max(created_at) AS DATE) FROM live.opportunities
			UNION ALL SELECT max(closed_on) FROM live.opportunities)), true)`).Scan(&usable); err != nil {
		return fmt.Errorf("comparing as_of with the deals' dates: %w", err)
	}
	if !usable {
		rc.Note("deal stages computed from the history (the as-of date is before some of the deals' dates)")
		return rc.Exec(ctx, "pipeline_deal_stages.sql", plDealStagesDirect)
	}
	var zone string
	if err := rc.Conn.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&zone); err != nil {
		return err
	}
	fp := codeVersion() + "/" + zone + "/" + FactsDefinition()
	last, err := LastCommittedLoad(ctx, rc.Conn)
	if err != nil {
		return err
	}
	var since sql.NullInt64
	var cachedFP sql.NullString
	var stagesChanged bool
	var cached int
	if err := rc.Conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'model_cache' AND table_name IN ('deal_stages', 'deal_stages_state')`).
		Scan(&cached); err != nil {
		return fmt.Errorf("looking for the deal stages cache: %w", err)
	}
	if cached == 2 {
		if err := rc.Conn.QueryRowContext(ctx, `SELECT load_id, fingerprint,
				EXISTS (SELECT 1 FROM main.stages WHERE _load_id > s.load_id) FROM model_cache.deal_stages_state s`).
			Scan(&since, &cachedFP, &stagesChanged); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading the deal stages cache's state: %w", err)
		}
	}
	cache := func(step string) error {
		return rc.Exec(ctx, "pipeline_stage_cache.sql", map[string]any{"Step": step, "Since": since.Int64, "LoadID": last, "Fingerprint": fp})
	}
	compute := func() error {
		if err := rc.Exec(ctx, "pipeline_deal_stages.sql", map[string]any{"Deals": "pl_ds_deals", "Into": "pl_ds_new", "Until": "DATE '9999-12-31'"}); err != nil {
			return err
		}
		return cache("mark")
	}
	// the cache's rows and state change together or not at all
	inTx := func(steps ...string) (err error) {
		if _, err := rc.Conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				rc.Conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			}
		}()
		for _, st := range steps {
			if err := cache(st); err != nil {
				return err
			}
		}
		_, err = rc.Conn.ExecContext(ctx, "COMMIT")
		return err
	}
	switch {
	case !since.Valid || cachedFP.String != fp || stagesChanged || since.Int64 > last:
		if _, err := rc.Conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE pl_ds_deals AS SELECT * FROM pl_deals"); err != nil {
			return err
		}
		if err := compute(); err != nil {
			return err
		}
		if err := inTx("schema", "rebuild", "state"); err != nil {
			return fmt.Errorf("rebuilding the deal stages cache: %w", err)
		}
		rc.Note("deal stages cache rebuilt")
	case since.Int64 < last:
		if err := cache("changed"); err != nil {
			return err
		}
		if err := compute(); err != nil {
			return err
		}
		if err := inTx("replace", "state"); err != nil {
			return fmt.Errorf("updating the deal stages cache: %w", err)
		}
		var n int64
		rc.Conn.QueryRowContext(ctx, "SELECT count(*) FROM pl_ds_changed").Scan(&n)
		rc.Note("deal stages: %d deals updated in the cache (loads %d to %d)", n, since.Int64+1, last)
	}
	if err := cache("read"); err != nil {
		return err
	}
	for _, t := range []string{"pl_ds_deals", "pl_ds_changed", "pl_ds_new", "pl_ds_marked"} {
		if _, err := rc.Conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp.main."+t); err != nil {
			return err
		}
	}
	return nil
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// plFloat renders a setting as a SQL number literal for a template splice.
func plFloat(f float64) string { return fmt.Sprintf("%g", f) }

// plAppend bulk-inserts rows into the temp table temp.main.<table> through
// DuckDB's appender, inside conn's open transaction.
func plAppend(conn *sql.Conn, table string, rows [][]driver.Value) error {
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", table)
		if err != nil {
			return fmt.Errorf("appender for %s: %w", table, err)
		}
		for _, r := range rows {
			if err := app.AppendRow(r...); err != nil {
				app.Close()
				return fmt.Errorf("append to %s: %w", table, err)
			}
		}
		return app.Close()
	})
}
