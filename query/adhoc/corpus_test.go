package adhoc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/guard_corpus.jsonl with the guard's current verdicts")

// corpusEntry is one query of testdata/guard_corpus.jsonl and the guard's
// verdict on it: "ok …" with what it reads and calls, "refused: <message>",
// or "syntax" (DuckDB's parser message is not compared: it changes between
// versions).
type corpusEntry struct {
	SQL  string `json:"sql"`
	Want string `json:"want"`
}

func corpusVerdict(t *testing.T, cat *Catalog, q string) string {
	c, err := Check(q, cat)
	if err != nil {
		switch ClassOf(err) {
		case Syntax:
			return "syntax"
		case Refused:
			return "refused: " + err.(*Error).Message
		}
		return fmt.Sprintf("%s: %v", ClassOf(err), err)
	}
	if _, err := NewPlan(context.Background(), c, cat, Scope{Rep: "R1"}, 100); err != nil {
		return fmt.Sprintf("plan failed: %v (%s)", err, err.(*Error).Raw)
	}
	return fmt.Sprintf("ok relations=%v functions=%v params=%v ctes=%v", c.Relations, c.Functions, c.Params, c.CTEs)
}

// TestGuardCorpus holds the guard to its verdicts on a corpus of queries:
// the guard's tests, the attack catalogue, the fuzz seeds, the queries the
// other packages' tests send, and analyst SQL of every kind (joins, CTEs,
// windows, set operations, PIVOT, lambdas, casts, subqueries in every
// place). The verdicts were recorded on DuckDB 1.5.6 before the move to
// 2.0: the guard must accept on 2.0 exactly what it accepted there, with the
// same relations and functions, and refuse the rest with the same message.
// A change of verdict is reviewed, then recorded with -update-corpus.
func TestGuardCorpus(t *testing.T) {
	cat := testCatalog(t)
	b, err := os.ReadFile("testdata/guard_corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var entries []corpusEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e corpusEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("guard_corpus.jsonl line %d: %v", len(entries)+1, err)
		}
		entries = append(entries, e)
	}
	if len(entries) < 500 {
		t.Fatalf("the corpus has %d queries, want at least 500", len(entries))
	}
	ok := 0
	for i := range entries {
		got := corpusVerdict(t, cat, entries[i].SQL)
		if strings.HasPrefix(got, "ok ") {
			ok++
		}
		if *updateCorpus {
			entries[i].Want = got
			continue
		}
		if got != entries[i].Want {
			t.Errorf("%q:\n got %s\nwant %s", entries[i].SQL, got, entries[i].Want)
		}
	}
	if *updateCorpus {
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile("testdata/guard_corpus.jsonl", out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if ok < 150 {
		t.Errorf("the corpus has %d accepted queries, want at least 150", ok)
	}
}
