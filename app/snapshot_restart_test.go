package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/warehouse"
)

// A server that starts again on a warehouse nothing wrote to since its last
// start writes nothing to the file and keeps the snapshot ad hoc SQL copied
// then: every start used to reinstall the scoped relations (a write) and
// copy the whole file again, 8-14 GB on the large demo company, which also
// pushed the pages' data out of the page cache just before the first views.
// A commit in between makes a new copy.
func TestRestartKeepsTheSnapshotOfAnUnchangedWarehouse(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "wh.duckdb")
	start := func() string {
		t.Helper()
		r, err := app.Open(ctx, &app.Config{DB: db, BaseCurrency: "CNY", RefreshAfterLoad: "off"}, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Dashboards(ctx, "", true); err != nil {
			t.Fatal(err)
		}
		r.WaitForSnapshots()
		b, err := os.ReadFile(filepath.Join(db+".snapshots", "CURRENT"))
		if err != nil {
			t.Fatal(err)
		}
		name, _, _ := strings.Cut(string(b), "\n")
		if _, err := os.Stat(filepath.Join(db+".snapshots", name)); err != nil {
			t.Fatalf("the current snapshot: %v", err)
		}
		return name
	}
	stat := func() os.FileInfo {
		t.Helper()
		fi, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	first := start()
	before := stat()
	second := start()
	after := stat()
	if !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Errorf("a start wrote to an unchanged warehouse: modified %v, %d bytes -> %v, %d bytes",
			before.ModTime(), before.Size(), after.ModTime(), after.Size())
	}
	if second != first {
		t.Errorf("a start copied an unchanged warehouse again: snapshot %s -> %s", first, second)
	}

	w, err := warehouse.Open(ctx, warehouse.Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	err = w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "INSERT INTO org_units (org_unit_id, name, level) VALUES ('HQ', 'Head office', 'company')")
		return err
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if third := start(); third == second {
		t.Errorf("a start after a commit kept the snapshot %s made before it", third)
	}
}

// lockedBuffer is a log sink the server's goroutines write to at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A load that queues a refresh leaves ad hoc SQL's snapshot to the refresh:
// the warehouse file is copied once, after the refresh, instead of once
// after the load (holding the write lane the refresh waits for) and again
// after the refresh. A load that queues none publishes its own.
func TestLoadThatQueuesARefreshPublishesOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "wh.duckdb")
	tiny, err := filepath.Abs("../etl/testdata/tiny")
	if err != nil {
		t.Fatal(err)
	}
	edit := filepath.Join(dir, "edit")
	os.MkdirAll(edit, 0o755)
	os.WriteFile(filepath.Join(edit, "org_units.csv"), []byte("org_unit_id,parent_id,name,level\nHQX,,Another head office,company\n"), 0o644)
	for _, c := range []struct{ after, data, publishedAfter string }{{"all", tiny, "refresh"}, {"off", edit, "load"}} {
		logs := &lockedBuffer{}
		r, err := app.Open(ctx, &app.Config{DB: db, BaseCurrency: "CNY", RefreshAfterLoad: c.after},
			slog.New(slog.NewTextHandler(logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Dashboards(ctx, "", true); err != nil {
			t.Fatal(err)
		}
		r.WaitForSnapshots()
		res, err := r.Load(ctx, app.LoadRequest{Paths: []string{c.data}, By: "test"}, nil, true)
		if err != nil || res.Report.Status != "committed" {
			t.Fatalf("refresh_after_load %s: load: %v %+v", c.after, err, res)
		}
		if (res.Refresh != "") != (c.after != "off") {
			t.Fatalf("refresh_after_load %s: the load queued refresh %q", c.after, res.Refresh)
		}
		r.WaitForJobs()
		r.WaitForSnapshots()
		r.Close()
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Fatalf("refresh_after_load %s: %s", c.after, logs.String())
		}
		var after []string
		for _, m := range regexp.MustCompile(`msg="ad hoc SQL snapshot published" after=(\w+)`).FindAllStringSubmatch(logs.String(), -1) {
			if m[1] != "start" {
				after = append(after, m[1])
			}
		}
		if len(after) != 1 || after[0] != c.publishedAfter {
			t.Errorf("refresh_after_load %s: the warehouse was copied after %v; want once, after the %s", c.after, after, c.publishedAfter)
		}
	}
}
