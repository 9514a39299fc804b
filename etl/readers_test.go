package etl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/triscope/triscope/warehouse"
)

// Plain CSV is read by DuckDB (fastcsv.go) or by Go (stage.go), and both must
// give the same load: the same rows in every table, the same rejects with
// the same file, line, column, value and reason, the same report. Every case
// of the corpus is loaded once with each reader forced and the outcomes are
// compared whole.
func TestBothReadersGiveTheSameLoad(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/cases/*/expected.json")
	var duck atomic.Int64
	t.Run("cases", func(t *testing.T) {
		for _, exp := range dirs {
			dir := filepath.Dir(exp)
			t.Run(filepath.Base(dir), func(t *testing.T) {
				t.Parallel()
				byGo := loadCaseWith(t, dir, readerGo)
				byDuck := loadCaseWith(t, dir, readerDuckDB)
				duck.Add(int64(byDuck.duckdb))
				if byGo.duckdb != 0 {
					t.Fatalf("Go forced, but DuckDB read %d files", byGo.duckdb)
				}
				compareOutcomes(t, byGo, byDuck)
			})
		}
	})
	// Most CSV inputs of the corpus are plain: the comparison must have
	// exercised DuckDB's reader on them, bad rows included.
	t.Logf("DuckDB read %d files of the corpus", duck.Load())
	if n := duck.Load(); n < 45 {
		t.Errorf("DuckDB read only %d files of the corpus", n)
	}
}

// outcome is everything a load leaves behind, as text.
type outcome struct {
	Err, Status, Message string
	Files                []string
	Rejects              []string
	Tables               map[string][]string
	LoadFiles            []string
	RejectFiles          map[string]string
	duckdb               int
}

func loadCaseWith(t *testing.T, dir, reader string) outcome {
	t.Helper()
	var spec caseSpec
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&spec); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	inputs, mapping := materialise(t, dir, work, &spec)
	w := openWarehouse(t)
	tiny := t.TempDir()
	if spec.Setup == "tiny" {
		for _, e := range mustReadDir(t, "testdata/tiny") {
			b, _ := os.ReadFile(filepath.Join("testdata/tiny", e.Name()))
			os.WriteFile(filepath.Join(tiny, e.Name()), b, 0o644)
		}
		if _, err := Load(context.Background(), w, []string{tiny}, Options{reader: reader}); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{Entity: spec.Options.Entity, Encoding: spec.Options.Encoding, Snapshot: spec.Options.Snapshot,
		MaxRejectShare: spec.Options.MaxRejectShare, DryRun: spec.Options.DryRun, Force: spec.Options.Force, reader: reader}
	if opts.MaxRejectShare == 0 {
		opts.MaxRejectShare = 1
	}
	if mapping != "" {
		m, err := LoadMapping(mapping)
		if err != nil {
			return outcome{Err: err.Error()}
		}
		opts.Mapping = m
	}
	rep, err := Load(context.Background(), w, inputs, opts)
	norm := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, work, "WORK"), tiny, "TINY") }
	var o outcome
	if err != nil {
		o.Err = norm(err.Error())
	}
	o.Status, o.Message = rep.Status, norm(rep.Message)
	for _, f := range rep.Files {
		if f.Reader == readerDuckDB {
			o.duckdb++
		}
		c := *f
		c.Reader, c.ReaderNote = "", ""
		j, _ := json.Marshal(c)
		o.Files = append(o.Files, norm(string(j)))
		if f.RejectsCSV != "" {
			if o.RejectFiles == nil {
				o.RejectFiles = map[string]string{}
			}
			b, _ := os.ReadFile(f.RejectsCSV)
			o.RejectFiles[norm(f.RejectsCSV)] = norm(string(b))
		}
	}
	o.Rejects = queryStrings(t, w, `SELECT concat_ws(' | ', load_id, path, entity, line, "column", value, reason) FROM load_rejects ORDER BY ALL`, norm)
	o.LoadFiles = queryStrings(t, w, `SELECT concat_ws(' | ', load_id, path, entity, format, encoding, sha256, bytes, rows_read, rows_loaded,
		rows_updated, rows_unchanged, rows_rejected, rows_duplicate, status, mode, rows_deleted) FROM load_files ORDER BY ALL`, norm)
	o.Tables = map[string][]string{}
	for _, e := range Entities {
		o.Tables[e.Name] = queryStrings(t, w, fmt.Sprintf(`SELECT CAST(COLUMNS(* EXCLUDE (_deleted_at)) AS VARCHAR), _deleted_at IS NULL FROM %s ORDER BY ALL`, quoteIdent(e.Name)), norm)
	}
	return o
}

func queryStrings(t *testing.T, w *warehouse.Warehouse, q string, norm func(string) string) []string {
	t.Helper()
	rows, err := w.DB().Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, norm(fmt.Sprint(vals...)))
	}
	return out
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func compareOutcomes(t *testing.T, a, b outcome) {
	t.Helper()
	same := func(what string, x, y []string) {
		if !slices.Equal(x, y) {
			t.Errorf("%s differ:\n go:     %q\n duckdb: %q", what, x, y)
		}
	}
	if a.Err != b.Err || a.Status != b.Status || a.Message != b.Message {
		t.Errorf("outcome differs:\n go:     %q %q %q\n duckdb: %q %q %q", a.Err, a.Status, a.Message, b.Err, b.Status, b.Message)
	}
	same("file reports", a.Files, b.Files)
	same("load_rejects", a.Rejects, b.Rejects)
	same("load_files", a.LoadFiles, b.LoadFiles)
	for _, e := range Entities {
		same("table "+e.Name, a.Tables[e.Name], b.Tables[e.Name])
	}
	if fmt.Sprint(a.RejectFiles) != fmt.Sprint(b.RejectFiles) {
		t.Errorf("rejects files differ:\n go:     %q\n duckdb: %q", a.RejectFiles, b.RejectFiles)
	}
}
