package models

import "testing"

// The statements that write one of the running model's marts write its
// staged table; nothing else is touched.
func TestStageRewritesTheModelsMartWrites(t *testing.T) {
	rc := &RunContext{outputs: map[string]bool{"mart_rfm": true, "mart_clv": true}}
	for _, c := range []struct{ in, want, created string }{
		{"CREATE OR REPLACE TABLE mart_rfm AS SELECT 1", `CREATE OR REPLACE TABLE main."_staged_mart_rfm" AS SELECT 1`, "mart_rfm"},
		{"CREATE OR REPLACE  TABLE mart_rfm AS\nSELECT 1", "CREATE OR REPLACE  TABLE main.\"_staged_mart_rfm\" AS\nSELECT 1", "mart_rfm"},
		{"-- the customers\n-- by segment\nCREATE TABLE mart_clv (x INT)", "-- the customers\n-- by segment\nCREATE TABLE main.\"_staged_mart_clv\" (x INT)", "mart_clv"},
		{"INSERT INTO mart_clv SELECT * FROM clv_rows", `INSERT INTO main."_staged_mart_clv" SELECT * FROM clv_rows`, ""},
		{"COMMENT ON TABLE mart_rfm IS 'RFM'", `COMMENT ON TABLE main."_staged_mart_rfm" IS 'RFM'`, ""},
		{"COMMENT ON COLUMN mart_rfm.segment IS 'the segment'", `COMMENT ON COLUMN main."_staged_mart_rfm".segment IS 'the segment'`, ""},
		// another model's mart, a longer name, a read, a temp table: as they are
		{"CREATE OR REPLACE TABLE mart_alerts AS SELECT 1", "CREATE OR REPLACE TABLE mart_alerts AS SELECT 1", ""},
		{"CREATE OR REPLACE TABLE mart_rfm_movement AS SELECT 1", "CREATE OR REPLACE TABLE mart_rfm_movement AS SELECT 1", ""},
		{"CREATE OR REPLACE TEMP TABLE cv_rfm AS SELECT * FROM mart_rfm", "CREATE OR REPLACE TEMP TABLE cv_rfm AS SELECT * FROM mart_rfm", ""},
		{"SELECT count(*) FROM mart_rfm", "SELECT count(*) FROM mart_rfm", ""},
	} {
		got, created := rc.stage(c.in)
		if got != c.want || created != c.created {
			t.Errorf("stage(%q) = %q, %q; want %q, %q", c.in, got, created, c.want, c.created)
		}
	}
	// outside a model's run (no outputs) nothing is staged
	if got, _ := (&RunContext{}).stage("CREATE OR REPLACE TABLE mart_rfm AS SELECT 1"); got != "CREATE OR REPLACE TABLE mart_rfm AS SELECT 1" {
		t.Errorf("staged outside a run: %q", got)
	}
}
