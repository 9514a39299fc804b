package adhoc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type attackCase struct {
	Name    string `yaml:"name"`
	SQL     string `yaml:"sql"`
	Expect  string `yaml:"expect"`
	Message string `yaml:"message"`
	Compare *bool  `yaml:"compare"`
	Ordered bool   `yaml:"ordered"`
	Timeout string `yaml:"timeout"`
}

func loadAttacks(t testing.TB) []attackCase {
	t.Helper()
	b, err := os.ReadFile("testdata/attacks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []attackCase
	if err := yaml.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 60 {
		t.Fatalf("the catalogue has %d cases, want at least 60", len(cases))
	}
	return cases
}

func fileHash(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var ownerMark = regexp.MustCompile(`~(R[0-9]+)~`)

// leaks lists the values of a result that belong to reps outside the scope,
// or that come from a file.
func leaks(res *Result, reps []string) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			for _, m := range ownerMark.FindAllStringSubmatch(x, -1) {
				if !contains(reps, m[1]) {
					out = append(out, x)
				}
			}
			if strings.Contains(x, "CANARY-7f3a") || strings.Contains(x, "DUCK") {
				out = append(out, "file content: "+x)
			}
		case []byte:
			walk(string(x))
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, r := range res.Rows {
		for _, v := range r {
			walk(v)
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// TestAttackCatalogue runs every case for a rep, a manager and an analyst:
// each refusal with its message, each result equal to the same query on a
// database holding only the user's rows, no row of another rep, nothing read
// from a file, and neither the warehouse nor the snapshot written.
func TestAttackCatalogue(t *testing.T) {
	cases := loadAttacks(t)
	fx := fixtureWarehouse(t)
	snap := filepath.Join(t.TempDir(), "snap.duckdb")
	copyTo(t, fx, snap)
	fxHash, snapHash := fileHash(t, fx), fileHash(t, snap)
	canary := filepath.Join(filepath.Dir(fx), "canary.csv")
	var audits []AuditEntry
	sb := testSandbox(t, StaticSnapshot(snap), func(o *Options) {
		o.AddressSpace = 3 << 30
		o.Audit = func(e AuditEntry) { audits = append(audits, e) }
	})
	ctx := context.Background()
	runs := 0
	for _, sc := range fixtureScopes {
		orc := newOracle(t, fx, sc.reps)
		for _, c := range cases {
			q := strings.NewReplacer("{db}", snap, "{canary}", canary).Replace(c.SQL)
			timeout := 10 * time.Second
			if c.Timeout != "" {
				d, err := time.ParseDuration(c.Timeout)
				if err != nil {
					t.Fatalf("%s: timeout: %v", c.Name, err)
				}
				timeout = d
			}
			runs++
			res, err := sb.Run(ctx, Request{User: sc.name, Entry: "test", Scope: sc.scope, SQL: q, Timeout: timeout, MaxRows: 1000})
			where := fmt.Sprintf("%s / %s (%s)", sc.name, c.Name, q)
			if res != nil {
				if l := leaks(res, sc.reps); len(l) > 0 {
					t.Errorf("%s: LEAK %v", where, l)
				}
			}
			switch c.Expect {
			case "ok":
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				if c.Compare != nil && !*c.Compare {
					continue
				}
				want, oerr := orc.rows(q, 1001)
				if oerr != nil {
					t.Errorf("%s: oracle: %v", where, oerr)
					continue
				}
				g, w := canon(res.Rows, c.Ordered), canon(want, c.Ordered)
				if strings.Join(g, "\n") != strings.Join(w, "\n") {
					t.Errorf("%s: result differs from the user's own rows\n got: %v\nwant: %v", where, g, w)
				}
			case "refused", "syntax", "data", "timeout", "memory":
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("%s: want %s, got %v (rows %v)", where, c.Expect, err, res)
					continue
				}
				if string(e.Class) != c.Expect {
					t.Errorf("%s: class %s, want %s: %v", where, e.Class, c.Expect, e)
				}
				if c.Message != "" && !strings.Contains(e.Message, c.Message) {
					t.Errorf("%s: message %q, want it to say %q", where, e.Message, c.Message)
				}
				if e.Message == "" || e.Raw != "" {
					t.Errorf("%s: a user's error must have a message and no raw text: %#v", where, e)
				}
				if strings.Contains(e.Error(), "~R") {
					t.Errorf("%s: the error shows data: %v", where, e)
				}
			default:
				t.Fatalf("%s: unknown expectation %q", c.Name, c.Expect)
			}
		}
	}
	if len(audits) != runs {
		t.Errorf("audit hook called %d times for %d queries", len(audits), runs)
	}
	if fileHash(t, fx) != fxHash || fileHash(t, snap) != snapHash {
		t.Error("a query wrote to the warehouse or the snapshot")
	}
}
