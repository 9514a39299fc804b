package adhoc

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triscope/triscope/access"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	a, err := access.Open(context.Background(), filepath.Join(t.TempDir(), "app.duckdb"), discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	st, err := OpenStore(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A saved query: validated against the guard and its declared parameters,
// private or shared with a role, run as each viewer with their own scope
// (a report's recipients), its parameters over their defaults.
func TestSavedQueries(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	cat := fixtureCatalog(t)
	fx := fixtureWarehouse(t)
	sb := testSandbox(t, StaticSnapshot(fx), nil)
	roles := []string{"rep", "manager"}

	bad := []Saved{
		{Name: "", SQL: "SELECT 1"},
		{Name: "files", SQL: "SELECT * FROM read_csv('x')"},
		{Name: "undeclared", SQL: "SELECT * FROM contracts WHERE signed_on >= $from"},
		{Name: "positional", SQL: "SELECT $1", Params: []Param{{Name: "x"}}},
		{Name: "bad role", SQL: "SELECT 1", SharedRole: "root"},
		{Name: "bad default", SQL: "SELECT $d", Params: []Param{{Name: "d", Type: "date", Default: "yesterday"}}},
	}
	for _, q := range bad {
		if err := q.Validate(ctx, cat, roles); err == nil {
			t.Errorf("%q accepted", q.Name)
		}
	}
	q := Saved{Owner: "mgr", Name: "Contracts since", Description: "contracts signed since a date",
		SQL:    "SELECT contract_id, amount FROM contracts WHERE signed_on >= $from AND amount > $min ORDER BY contract_id",
		Params: []Param{{Name: "from", Type: "date", Default: "2024-01-01"}, {Name: "min", Type: "number", Default: "0"}}, SharedRole: "rep"}
	if err := q.Validate(ctx, cat, roles); err != nil {
		t.Fatal(err)
	}
	q, err := st.Save(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, Saved{Owner: "mgr", Name: "Contracts since", SQL: "SELECT 1"}); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("a second query of the same name: %v", err)
	}
	if l, _ := st.List(ctx, Viewer{Username: "other", Role: "analyst"}); len(l) != 0 {
		t.Errorf("an analyst sees %v", l)
	}
	if _, err := st.Get(ctx, Viewer{Username: "other", Role: "analyst"}, q.ID); !errors.Is(err, ErrNoSaved) {
		t.Errorf("get by another role: %v", err)
	}
	// The owner (a manager of E) and a rep it is shared with (R1) run it.
	res, _, err := st.RunSaved(ctx, sb, "Contracts since", Viewer{"mgr", "manager"}, false, Scope{Org: "E"}, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	resRep, _, err := st.RunSaved(ctx, sb, q.ID, Viewer{"r1", "rep"}, false, Scope{Rep: "R1"}, map[string]string{"min": "1015"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 18 || len(resRep.Rows) != 3 {
		t.Errorf("manager %d rows (want 18), rep %d rows (want 3 of R1 over 1015)", len(res.Rows), len(resRep.Rows))
	}
	if l := leaks(resRep, []string{"R1"}); len(l) > 0 {
		t.Errorf("leak: %v", l)
	}
	if _, _, err := st.RunSaved(ctx, sb, q.ID, Viewer{"r1", "rep"}, false, Scope{Rep: "R1"}, map[string]string{"nope": "1"}, "test"); err == nil {
		t.Error("an unknown parameter was accepted")
	}
	q.Description = "changed"
	if _, err := st.Save(ctx, Saved{ID: q.ID, Owner: "r1", Name: "stolen", SQL: "SELECT 1"}); !errors.Is(err, ErrNoSaved) {
		t.Errorf("another user updated it: %v", err)
	}
	if err := st.Delete(ctx, "r1", q.ID); !errors.Is(err, ErrNoSaved) {
		t.Errorf("another user deleted it: %v", err)
	}
	if err := st.Delete(ctx, "mgr", q.ID); err != nil {
		t.Fatal(err)
	}

	// History: newest first, bounded per user.
	for i := 0; i < HistoryPerUser+5; i++ {
		if err := st.Record(ctx, HistoryEntry{User: "mgr", Entry: "console", SQL: "SELECT " + strings.Repeat("1", i%3+1), Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Record(ctx, HistoryEntry{User: "r1", Entry: "cli", SQL: "SELECT 2", Outcome: "ok"})
	h, err := st.History(ctx, "mgr", 0)
	if err != nil || len(h) != HistoryPerUser || h[0].ID < h[1].ID {
		t.Errorf("history: %d entries, %v", len(h), err)
	}
	if h, _ := st.History(ctx, "r1", 10); len(h) != 1 {
		t.Errorf("r1's history: %v", h)
	}
}

type collectSink struct {
	cols []Column
	rows [][]any
}

func (c *collectSink) Columns(cols []Column) error { c.cols = cols; return nil }
func (c *collectSink) Rows(r [][]any) error        { c.rows = append(c.rows, r...); return nil }

// Stream hands the rows over in batches, caps them, and SchemaOnly answers
// the columns without rows.
func TestStreamAndSchema(t *testing.T) {
	ctx := context.Background()
	fx := fixtureWarehouse(t)
	sb := testSandbox(t, StaticSnapshot(fx), nil)
	var sink collectSink
	res, err := sb.Stream(ctx, Request{User: "u", Scope: Scope{All: true}, SQL: "SELECT i, i * 2 AS j FROM range(5000) t(i)", MaxRows: 4500}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.rows) != 4500 || res.Streamed != 4500 || !res.Truncated || len(sink.cols) != 2 {
		t.Errorf("streamed %d rows (%d), truncated %v, cols %v", len(sink.rows), res.Streamed, res.Truncated, sink.cols)
	}
	sink = collectSink{}
	if _, err := sb.Stream(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "SELECT customer_id, count(*) AS n FROM contracts GROUP BY 1", SchemaOnly: true}, &sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.rows) != 0 || len(sink.cols) != 2 || sink.cols[1].Type != "BIGINT" {
		t.Errorf("schema: %v %v", sink.cols, sink.rows)
	}
	_, err = sb.Stream(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "SELECT nope FROM contracts", SchemaOnly: true}, &sink)
	var e *Error
	if !errors.As(err, &e) || e.Class != Syntax || e.Position != 7 {
		t.Errorf("schema of a bad query: %#v", err)
	}
}
