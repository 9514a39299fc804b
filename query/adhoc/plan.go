package adhoc

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Plan is what the worker runs for one checked query and one scope: a
// temporary view per relation read, and the query with each relation name
// replaced by its view, wrapped in the row cap.
//
// Why views with other names, not views named like the relations: DuckDB
// binds a table macro's body in the caller's name space, so a view named
// customers over scoped.customers(…) would find itself when the macro reads
// customers (infinite recursion), and a table macro also sees the caller's
// CTEs (a user's WITH org_closure AS (…) would rewrite the scope inside the
// macro). A view body is bound on its own: it sees neither.
type Plan struct {
	Views   []View   // CREATE TEMP VIEW name AS sql, in this order
	SQL     string   // the query to run
	MaxRows int      // the cap; the query returns at most MaxRows+1 rows
	CTEs    []string // the query's CTE names (the worker refuses one that names an existing relation)
	Params  []string

	shifts []shift // to map a position in SQL back to the user's text
}

// View binds one relation for one query.
type View struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

type shift struct {
	at      int // offset in the user's SQL where an edit starts
	origLen int // length of the text it replaced
	replLen int // length of the replacement
}

const (
	wrapPrefix = "SELECT * FROM (\n"
	wrapAlias  = "_adhoc_q"
)

// NewPlan splices the views into the checked text, wraps it in the row cap,
// and parses the result again: the planned query must be exactly the
// checked one with the relation names replaced, or it is refused.
func NewPlan(ctx context.Context, c *Checked, cat *Catalog, s Scope, maxRows int) (*Plan, error) {
	if maxRows < 0 {
		maxRows = 0
	}
	body := trimStatement(c.SQL)
	refs := append([]tableRef(nil), c.refs...)
	sort.Slice(refs, func(i, j int) bool { return refs[i].loc > refs[j].loc })
	var shifts []shift
	for i, r := range refs {
		if r.loc < 0 || (i > 0 && refs[i-1].loc == r.loc) {
			return nil, internalf("relation %s has no usable position", r.name)
		}
		end, name, ok := identAt(body, r.loc)
		if !ok || foldName(name) != r.name {
			return nil, internalf("relation %s not found at its position", r.name)
		}
		repl := viewName(r.name)
		if str(r.node, "alias") == "" && !r.show {
			repl += " AS " + quoteIdent(r.name)
		}
		body = body[:r.loc] + repl + body[end:]
		shifts = append(shifts, shift{at: r.loc, origLen: end - r.loc, replLen: len(repl)})
	}
	p := &Plan{
		SQL:     wrapPrefix + body + "\n) AS " + wrapAlias + " LIMIT " + strconv.Itoa(maxRows+1),
		MaxRows: maxRows,
		CTEs:    c.CTEs,
		Params:  c.Params,
		shifts:  shifts,
	}
	for _, rel := range c.Relations {
		r, ok := cat.Relation(rel)
		if !ok {
			return nil, internalf("relation %s left the catalog", rel)
		}
		p.Views = append(p.Views, View{Name: viewName(rel), SQL: r.Define(s)})
	}
	if err := p.verify(ctx, c); err != nil {
		return nil, err
	}
	return p, nil
}

// verify parses the planned text and compares it with the checked tree.
func (p *Plan) verify(ctx context.Context, c *Checked) error {
	stmts, err := parse(ctx, p.SQL)
	if err != nil {
		return internalf("the planned query does not parse: %v", err)
	}
	if len(stmts) != 1 {
		return internalf("the planned query has %d statements", len(stmts))
	}
	top, _ := asMap(stmts[0]["node"])
	inner, err := unwrap(top, p.MaxRows+1)
	if err != nil {
		return err
	}
	// The expected tree: the checked one with each relation renamed to its
	// view (and aliased to its own name where it had no alias).
	want := cloneJSON(c.tree)
	renamed := 0
	walkJSON(want, func(m map[string]any) {
		if str(m, "type") != "BASE_TABLE" {
			return
		}
		for _, r := range c.refs {
			if loc(m) == r.loc && foldName(str(m, "table_name")) == r.name {
				m["table_name"] = viewName(r.name)
				if str(m, "alias") == "" && !r.show {
					m["alias"] = r.name
				}
				renamed++
				return
			}
		}
	})
	if renamed != len(c.refs) {
		return internalf("planned %d of %d relations", renamed, len(c.refs))
	}
	stripLocations(want)
	got := cloneJSON(inner)
	stripLocations(got)
	if !reflect.DeepEqual(want, got) {
		return internalf("the planned query differs from the checked one")
	}
	return nil
}

// unwrap checks the wrapper (SELECT * FROM (…) AS _adhoc_q LIMIT n) and
// returns the query inside it.
func unwrap(top map[string]any, limit int) (map[string]any, error) {
	bad := internalf("the planned query has an unexpected shape")
	if top == nil || str(top, "type") != "SELECT_NODE" || top["cte_map"] != nil || top["where_clause"] != nil ||
		top["group_expressions"] != nil || top["having"] != nil || top["qualify"] != nil || top["sample"] != nil {
		return nil, bad
	}
	sel := asList(top["select_list"])
	if len(sel) != 1 {
		return nil, bad
	}
	if star, _ := asMap(sel[0]); star == nil || str(star, "class") != "STAR" || len(star) > 5 {
		return nil, bad
	}
	mods := asList(top["modifiers"])
	if len(mods) != 1 {
		return nil, bad
	}
	lm, _ := asMap(mods[0])
	if lm == nil || str(lm, "type") != "LIMIT_MODIFIER" || lm["offset"] != nil {
		return nil, bad
	}
	if n, ok := constNumber(lm["limit"]); !ok || n != float64(limit) {
		return nil, bad
	}
	from, _ := asMap(top["from_table"])
	if from == nil || str(from, "type") != "SUBQUERY" || str(from, "alias") != wrapAlias || from["sample"] != nil ||
		from["column_name_alias"] != nil {
		return nil, bad
	}
	sq, _ := asMap(from["subquery"])
	if sq == nil {
		return nil, bad
	}
	inner, _ := asMap(sq["node"])
	if inner == nil {
		return nil, bad
	}
	return inner, nil
}

// userPos maps a byte offset in the planned SQL back to the user's text.
func (p *Plan) userPos(pos int) int {
	if pos < 0 {
		return -1
	}
	pos -= len(wrapPrefix)
	if pos < 0 {
		return -1
	}
	// shifts are in descending order of position: walk them ascending.
	d := 0 // how much longer the planned text is before the current edit
	for i := len(p.shifts) - 1; i >= 0; i-- {
		sh := p.shifts[i]
		start := sh.at + d
		if pos < start {
			break
		}
		if pos < start+sh.replLen {
			return sh.at
		}
		d += sh.replLen - sh.origLen
	}
	return pos - d
}

func internalf(format string, args ...any) *Error {
	return &Error{Class: Internal, Message: genericMessage[Internal], Position: -1, Raw: "adhoc plan: " + fmt.Sprintf(format, args...)}
}

func cloneJSON(v map[string]any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if dec.Decode(&out) != nil {
		return nil
	}
	return out
}

func walkJSON(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walkJSON(c, fn)
		}
	case []any:
		for _, c := range x {
			walkJSON(c, fn)
		}
	}
}

func stripLocations(v any) {
	walkJSON(v, func(m map[string]any) { delete(m, "query_location") })
}
