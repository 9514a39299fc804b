package reports_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Rendered files past the retention period (90 days) are deleted with
// their row and their emptied folders; recent ones stay.
func TestRetention(t *testing.T) {
	setup(t)
	ctx := context.Background()
	db := env.rt.Access().DB()
	root := filepath.Join(env.dir, "wh.reports") // reports.files_dir's default: <db>.reports
	put := func(run string, age time.Duration) string {
		dir := filepath.Join(root, run, "someone")
		os.MkdirAll(dir, 0o700)
		f := filepath.Join(dir, "copy.csv")
		os.WriteFile(f, []byte("x"), 0o600)
		if _, err := db.ExecContext(ctx, `INSERT INTO report_files (run_id, report, recipient, name, format, path, size, created_at)
			VALUES ($1, 'burst-scope', 'someone', 'copy.csv', 'csv', $2, 1, $3)`, run, f, time.Now().Add(-age)); err != nil {
			t.Fatal(err)
		}
		return f
	}
	old, recent := put("old-run", 91*24*time.Hour), put("recent-run", 89*24*time.Hour)
	n, err := env.svc.Expire(ctx)
	if err != nil || n != 1 {
		t.Fatalf("expired %d files: %v", n, err)
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(old))); !os.IsNotExist(err) {
		t.Errorf("the old run's folder is still there: %v", err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("a recent file went too: %v", err)
	}
	var left int
	db.QueryRowContext(ctx, `SELECT count(*) FROM report_files WHERE run_id IN ('old-run', 'recent-run')`).Scan(&left)
	if left != 1 {
		t.Errorf("%d rows left, want the recent one", left)
	}
}
