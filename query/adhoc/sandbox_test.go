package adhoc

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSandboxRunsScoped(t *testing.T) {
	fx := fixtureWarehouse(t)
	sb := testSandbox(t, StaticSnapshot(fx), nil)
	ctx := context.Background()
	for _, sc := range fixtureScopes {
		res, err := sb.Run(ctx, Request{User: sc.name, Entry: "test", Scope: sc.scope, SQL: "SELECT DISTINCT owner_rep_id FROM customers ORDER BY 1"})
		if err != nil {
			t.Fatalf("%s: %v", sc.name, err)
		}
		got := canon(res.Rows, true)
		if strings.Join(got, ",") != strings.Join(sc.reps, ",") {
			t.Errorf("%s sees reps %v, want %v", sc.name, got, sc.reps)
		}
	}
	// CTE shadowing a name the macros use must not widen the scope.
	res, err := sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "WITH org_tree AS (SELECT 'C' AS ancestor, org_unit_id AS unit FROM org_units) SELECT count(*) FROM customers"})
	if err == nil {
		if got := canon(res.Rows, true); got[0] != "3" {
			t.Errorf("CTE org_tree widened the scope: %v", got)
		}
	} else if ClassOf(err) != Refused {
		t.Errorf("CTE org_tree: %v", err)
	}
	// Row cap.
	res, err = sb.Run(ctx, Request{User: "u", Scope: Scope{All: true}, SQL: "SELECT * FROM range(100)", MaxRows: 10})
	if err != nil || len(res.Rows) != 10 || !res.Truncated {
		t.Fatalf("row cap: %v %+v", err, res)
	}
	// Errors: generic for users, raw for admins, position in the user's SQL.
	q := "SELECT CAST(name AS INT) FROM customers"
	_, err = sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: q})
	var e *Error
	if !errors.As(err, &e) || e.Class != Data || strings.Contains(e.Error(), "Customer") || e.Raw != "" {
		t.Fatalf("cast error for a user: %#v", err)
	}
	_, err = sb.Run(ctx, Request{User: "admin", Admin: true, Scope: Scope{All: true}, SQL: q})
	if !errors.As(err, &e) || !strings.Contains(e.For(true), "Customer") {
		t.Fatalf("cast error for an admin: %v", err)
	}
	_, err = sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "SELECT nosuchcolumn FROM customers"})
	if !errors.As(err, &e) || e.Class != Syntax || e.Position != 7 {
		t.Fatalf("binder error position: %#v", err)
	}
}
