package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
		rc.useCache(dealStagesCache.name, rc.caches[dealStagesCache.name])
		return nil
	}
	if err := rc.Exec(ctx, "pipeline_prep.sql", nil); err != nil {
		return err
	}
	// pl_deal_stages is a view of the cache, or a table computed directly:
	// a view an earlier refresh on this connection left would stop the table
	// (the refresh drops its temp tables when it ends, not its views)
	if _, err := rc.Conn.ExecContext(ctx, "DROP VIEW IF EXISTS temp.main.pl_deal_stages"); err != nil {
		return err
	}
	cached, err := dealStagesCache.refresh(ctx, rc)
	if err != nil {
		return err
	}
	rc.stagesCached = cached
	// the funnel's cells from the rows the cache's read step or the direct
	// computation defined
	if err := rc.Exec(ctx, "pipeline_stage_cells.sql", map[string]any{"Step": "sums", "Cached": cached}); err != nil {
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

// dealStagesCache keeps pl_deal_stages, the largest shared input of the
// pipeline models (a window over the whole stage history: 28.6 M rows and
// about 28 s of a large company's refresh), across refreshes per deal
// (cache.go, pipeline_stage_cache.sql). When as_of is on or after every date
// of the deals and their history, a deal's stages depend on as_of only
// through the stay it is still in: that stay runs until a far day in the
// cache and is moved back to as_of when read. Beside it the cache keeps the
// history rows in each deal's order (stage_history: the forecast's
// snapshots, another sort of the whole history), what the funnel takes from
// each deal (deal_attrs) and the funnel's cells of the stays that are over
// (stage_cells, derived from the others: pipeline_stage_cells.sql). A deal is
// recomputed when a load wrote its row, its history or its rep; the stages
// or fx rates changing rebuilds all.
var dealStagesCache = keyedCache{
	name: "deal_stages", key: "opportunity_id", unit: "deals", tables: []string{"deal_stages", "stage_history", "deal_attrs"},
	// fx rates re-price the deals' amounts (deal_attrs); a rep's unit or a
	// product's line changing recomputes the rep's or the product's deals
	// (the keys step)
	forcing: []string{"stages", "fx_rates"}, inputs: []string{"opportunities", "opportunity_stages", "reps", "products"}, file: "pipeline_stage_cache.sql",
	derive: func(ctx context.Context, rc *RunContext) error {
		if err := rc.Exec(ctx, "pipeline_stage_cache.sql", map[string]any{"Step": "derive"}); err != nil {
			return err
		}
		if err := rc.Exec(ctx, "pipeline_stage_cells.sql", map[string]any{"Step": "sums", "Cached": false}); err != nil {
			return err
		}
		return rc.Exec(ctx, "pipeline_stage_cells.sql", map[string]any{"Step": "store"})
	},
	compute: func(ctx context.Context, rc *RunContext, all bool) error {
		if err := rc.Exec(ctx, "pipeline_stage_cache.sql", map[string]any{"Step": "deals", "All": all}); err != nil {
			return err
		}
		if err := rc.Exec(ctx, "pipeline_deal_stages.sql", map[string]any{"Deals": "pl_ds_deals", "Into": "pl_ds_new", "Until": "DATE '9999-12-31'"}); err != nil {
			return err
		}
		if err := rc.Exec(ctx, "pipeline_stage_history.sql", map[string]any{"Deals": "pl_ds_deals", "Into": "stage_history_new", "Kind": "TABLE"}); err != nil {
			return err
		}
		return rc.Exec(ctx, "pipeline_stage_cache.sql", map[string]any{"Step": "mark"})
	},
	direct: func(ctx context.Context, rc *RunContext) error {
		if err := rc.Exec(ctx, "pipeline_deal_stages.sql", plDealStagesDirect); err != nil {
			return err
		}
		// a view: the forecast reads it once, and only it
		if err := rc.Exec(ctx, "pipeline_stage_history.sql", map[string]any{"Deals": "pl_deals", "Into": "pl_stage_history", "Kind": "VIEW"}); err != nil {
			return err
		}
		return rc.Exec(ctx, "pipeline_stage_cells.sql", map[string]any{"Step": "direct"})
	},
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
