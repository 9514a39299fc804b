// Package layering holds the check that production code follows the house's
// one-way flow of data (README, "Layout"):
//
//	etl → warehouse → models → query/access → dashboards | reports | sql → app → cmd
//
// As a DAG of imports between rooms (the first element of a package's path):
// warehouse imports none of ours; etl and models import warehouse; access
// imports warehouse; query imports warehouse and access (a query is started
// from a Scope); render imports query; the three faces (dashboards, reports,
// sql) import query, access and render, never etl, models, warehouse or each
// other; app may import any room below it; cmd wires app and what it needs.
// Tests are not checked (a test may build a warehouse with the loader).
package layering

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/triscope/triscope/"

// allowed lists, for each room, the other rooms its production code may import.
var allowed = map[string][]string{
	"warehouse":  {},
	"etl":        {"warehouse"},
	"models":     {"warehouse"},
	"access":     {"warehouse"},
	"query":      {"warehouse", "access"},
	"render":     {"query"},
	"dashboards": {"query", "access", "render"},
	"reports":    {"query", "access", "render"},
	"sql":        {"query", "access", "render"},
	"app":        {"warehouse", "etl", "models", "access", "query", "render", "dashboards", "reports", "sql"},
	"cmd":        {"warehouse", "etl", "models", "access", "query", "render", "dashboards", "reports", "sql", "app"},
	"internal":   {}, // this check and other test-only helpers
}

// roomOf is the room of a package path of this module ("" for others).
func roomOf(path string) string {
	rest, ok := strings.CutPrefix(path, module)
	if !ok {
		return ""
	}
	room, _, _ := strings.Cut(rest, "/")
	return room
}

func TestImportsFollowTheHouse(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bufio.NewReader(bytes.NewReader(out)))
	var broken []string
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		from := roomOf(p.ImportPath)
		rules, known := allowed[from]
		if !known {
			broken = append(broken, p.ImportPath+": room "+from+" is not in the house plan (add it to allowed, and to the README's layout)")
			continue
		}
		for _, imp := range p.Imports {
			to := roomOf(imp)
			if to == "" || to == from || slices.Contains(rules, to) {
				continue
			}
			broken = append(broken, p.ImportPath+" imports "+imp+" ("+from+" → "+to+" is against the flow)")
		}
	}
	if seen < 5 {
		t.Fatalf("go list found only %d packages", seen)
	}
	sort.Strings(broken)
	for _, b := range broken {
		t.Error(b)
	}
}

func TestRoomOf(t *testing.T) {
	for path, want := range map[string]string{
		module + "warehouse":          "warehouse",
		module + "query/adhoc":        "query",
		module + "cmd/triscope":       "cmd",
		"github.com/labstack/echo/v5": "",
	} {
		if got := roomOf(path); got != want {
			t.Errorf("roomOf(%s) = %q, want %q", path, got, want)
		}
	}
}
