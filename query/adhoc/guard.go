package adhoc

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Checked is a query the guard accepted: exactly one read-only statement
// whose every relation is in the catalog (or one of its own CTEs) and whose
// every function is on the allowlist.
type Checked struct {
	SQL       string   // the text as given
	Relations []string // catalog relations it reads, sorted
	Functions []string // functions it calls, sorted
	Params    []string // parameters it needs ($1 → "1", $from → "from"), sorted
	CTEs      []string // names of the CTEs it defines, sorted

	tree map[string]any // the statement's query node, as json_serialize_sql wrote it
	refs []tableRef     // where each catalog relation is named
}

// tableRef is one mention of a catalog relation in the tree.
type tableRef struct {
	node map[string]any // the BASE_TABLE node
	name string         // catalog name (lower case)
	loc  int            // byte offset of the name in the SQL
	show bool           // under DESCRIBE/SUMMARIZE (no alias may follow)
}

// Check parses sql with DuckDB's parser and accepts it only if it is exactly
// one read-only query over the catalog's relations with allowlisted
// functions. The error of a refusal is an *Error of class Refused (or Syntax
// when DuckDB cannot parse it) whose message names what was refused.
func Check(sql string, cat *Catalog) (*Checked, error) {
	return CheckContext(context.Background(), sql, cat)
}

// CheckContext is Check with a context for the parser call.
func CheckContext(ctx context.Context, sql string, cat *Catalog) (*Checked, error) {
	if cat == nil {
		return nil, &Error{Class: Internal, Message: genericMessage[Internal], Position: -1, Raw: "adhoc.Check: nil catalog"}
	}
	if len(sql) > MaxSQLBytes {
		return nil, refused(-1, "the query is longer than %d KiB", MaxSQLBytes>>10)
	}
	if !utf8.ValidString(sql) {
		return nil, refused(-1, "the query is not valid UTF-8 text")
	}
	if strings.IndexByte(sql, 0) >= 0 {
		return nil, refused(strings.IndexByte(sql, 0), "the query contains a NUL character")
	}
	stmts, err := parse(ctx, sql)
	if err != nil {
		return nil, err
	}
	switch {
	case len(stmts) == 0:
		return nil, refused(-1, "the query is empty")
	case len(stmts) > 1:
		return nil, refused(-1, "only one statement is allowed (found %d; remove the semicolons between them)", len(stmts))
	}
	st := stmts[0]
	for k := range st {
		if k != "node" && k != "named_param_map" {
			return nil, refused(-1, "unsupported statement part %q", k)
		}
	}
	node, ok := st["node"].(map[string]any)
	if !ok {
		return nil, refused(-1, "unsupported statement")
	}
	w := &walker{cat: cat, rels: map[string]bool{}, funcs: map[string]bool{}, params: map[string]bool{}, ctes: map[string]bool{}}
	w.queryNode(node, nil)
	if w.err != nil {
		return nil, w.err
	}
	return &Checked{
		SQL: sql, Relations: keys(w.rels), Functions: keys(w.funcs), Params: keys(w.params), CTEs: keys(w.ctes),
		tree: node, refs: w.refs,
	}, nil
}

// walker checks a parse tree node by node. Every node kind and every field
// of it must be known: an unknown one is refused (deny by default), so a
// DuckDB upgrade that adds syntax fails closed until it is reviewed here.
type walker struct {
	cat    *Catalog
	err    *Error
	rels   map[string]bool
	funcs  map[string]bool
	params map[string]bool
	ctes   map[string]bool
	refs   []tableRef
	depth  int
	show   bool // inside DESCRIBE/SUMMARIZE
}

// scope is the chain of CTE names visible at a point of the tree.
type scope struct {
	names  map[string]bool
	parent *scope
}

func (s *scope) has(name string) bool {
	for ; s != nil; s = s.parent {
		if s.names[name] {
			return true
		}
	}
	return false
}

const maxDepth = 500

func (w *walker) fail(pos int, format string, args ...any) {
	if w.err == nil {
		w.err = refused(pos, format, args...)
	}
}

func loc(n map[string]any) int {
	if v, ok := n["query_location"].(json.Number); ok {
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil && i >= 0 && i < math.MaxInt32 {
			return int(i)
		}
	}
	return -1
}

func str(n map[string]any, k string) string {
	s, _ := n[k].(string)
	return s
}

// fields refuses a node that has a field outside known (the common ones of
// its family are added by the callers).
func (w *walker) fields(n map[string]any, what string, known ...string) bool {
	for k := range n {
		ok := false
		for _, f := range known {
			if k == f {
				ok = true
				break
			}
		}
		if !ok {
			w.fail(loc(n), "unsupported SQL construct (%s with %s)", strings.ToLower(what), k)
			return false
		}
	}
	return true
}

func (w *walker) enter() bool {
	w.depth++
	if w.depth > maxDepth {
		w.fail(-1, "the query is nested too deeply")
		return false
	}
	return w.err == nil
}

func (w *walker) leave() { w.depth-- }

func asMap(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// ---- query nodes ------------------------------------------------------

var queryNodeCommon = []string{"type", "modifiers", "cte_map"}

func (w *walker) queryNode(n map[string]any, sc *scope) {
	if !w.enter() {
		return
	}
	defer w.leave()
	sc = w.cteMap(n, sc)
	if w.err != nil {
		return
	}
	switch t := str(n, "type"); t {
	case "SELECT_NODE":
		if !w.fields(n, "select", append(queryNodeCommon, "select_list", "from_table", "where_clause", "group_expressions",
			"group_sets", "aggregate_handling", "having", "sample", "qualify")...) {
			return
		}
		if ft, ok := asMap(n["from_table"]); ok {
			w.tableRef(ft, sc)
		}
		for _, e := range asList(n["select_list"]) {
			w.expr(e, sc)
		}
		for _, k := range []string{"where_clause", "having", "qualify"} {
			if e, ok := n[k]; ok {
				w.expr(e, sc)
			}
		}
		for _, e := range asList(n["group_expressions"]) {
			w.expr(e, sc)
		}
		if s, ok := asMap(n["sample"]); ok {
			w.sample(s)
		}
	case "SET_OPERATION_NODE":
		// DuckDB 2.0 lists the operands in children (1.5.6 had left and
		// right); A UNION B EXCEPT C nests a set operation in children.
		if !w.fields(n, "set operation", append(queryNodeCommon, "setop_type", "setop_all", "children")...) {
			return
		}
		if len(asList(n["children"])) < 2 {
			w.fail(-1, "unsupported set operation")
			return
		}
		for _, c := range asList(n["children"]) {
			if m, ok := asMap(c); ok {
				w.queryNode(m, sc)
			} else {
				w.fail(-1, "unsupported set operation")
			}
		}
	case "RECURSIVE_CTE_NODE":
		if !w.fields(n, "recursive CTE", append(queryNodeCommon, "cte_name", "union_all", "left", "right", "aliases", "key_targets")...) {
			return
		}
		for _, k := range []string{"left", "right"} {
			if c, ok := asMap(n[k]); ok {
				w.queryNode(c, sc)
			}
		}
		for _, e := range asList(n["key_targets"]) {
			w.expr(e, sc)
		}
	default:
		w.fail(-1, "unsupported query (%s)", strings.ToLower(t))
		return
	}
	for _, m := range asList(n["modifiers"]) {
		w.modifier(m, sc)
	}
}

// cteMap checks a node's WITH clause and returns the scope its body sees.
// A CTE sees the CTEs defined before it, and itself only when it is
// recursive; the body sees them all. A CTE may not take the name of a
// catalog relation: it would shadow what the user reads.
func (w *walker) cteMap(n map[string]any, sc *scope) *scope {
	cm, ok := asMap(n["cte_map"])
	if !ok {
		if _, present := n["cte_map"]; present {
			w.fail(-1, "unsupported WITH clause")
		}
		return sc
	}
	if !w.fields(cm, "WITH", "map") {
		return sc
	}
	inner := &scope{names: map[string]bool{}, parent: sc}
	for _, entry := range asList(cm["map"]) {
		e, ok := asMap(entry)
		if !ok || !w.fields(e, "WITH", "key", "value") {
			w.fail(-1, "unsupported WITH clause")
			return sc
		}
		name := foldName(str(e, "key"))
		if _, isRel := w.cat.Relation(name); isRel {
			w.fail(-1, "WITH %s: a CTE may not take the name of the relation %s; choose another name", name, name)
			return sc
		}
		if strings.HasPrefix(name, viewPrefix) {
			w.fail(-1, "WITH %s: names starting with %s are reserved", name, viewPrefix)
			return sc
		}
		if name == "" {
			w.fail(-1, "unsupported WITH clause")
			return sc
		}
		w.ctes[name] = true
		// DuckDB 2.0 holds the CTE's query node in query_node (1.5.6 had a
		// statement, query.node).
		v, ok := asMap(e["value"])
		if !ok || !w.fields(v, "WITH", "aliases", "query_node", "materialized", "key_targets") {
			w.fail(-1, "unsupported WITH clause")
			return sc
		}
		body, ok := asMap(v["query_node"])
		if !ok {
			w.fail(-1, "unsupported WITH clause")
			return sc
		}
		defScope := inner
		if str(body, "type") == "RECURSIVE_CTE_NODE" && foldName(str(body, "cte_name")) == name {
			defScope = &scope{names: map[string]bool{name: true}, parent: inner}
		}
		// inner holds the CTEs before this one: copy-on-write so that later
		// additions are not visible to this definition.
		w.queryNode(body, &scope{names: copySet(defScope.names), parent: defScope.parent})
		for _, e := range asList(v["key_targets"]) {
			w.expr(e, inner)
		}
		if w.err != nil {
			return sc
		}
		inner.names[name] = true
	}
	return inner
}

func copySet(m map[string]bool) map[string]bool {
	c := make(map[string]bool, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (w *walker) modifier(v any, sc *scope) {
	m, ok := asMap(v)
	if !ok {
		w.fail(-1, "unsupported result modifier")
		return
	}
	switch t := str(m, "type"); t {
	case "ORDER_MODIFIER":
		if w.fields(m, "ORDER BY", "type", "orders") {
			w.orders(m["orders"], sc)
		}
	case "LIMIT_MODIFIER":
		// DuckDB 2.0: LIMIT n% is a LIMIT_MODIFIER whose limit_type is
		// PERCENTAGE (1.5.6 had a LIMIT_PERCENT_MODIFIER).
		if !w.fields(m, "LIMIT", "type", "limit", "offset", "limit_type") {
			return
		}
		if lt := str(m, "limit_type"); lt != "ROW_COUNT" && lt != "PERCENTAGE" {
			w.fail(-1, "unsupported LIMIT (%s)", strings.ToLower(lt))
			return
		}
		for _, k := range []string{"limit", "offset"} {
			if e, ok := m[k]; ok {
				w.expr(e, sc)
			}
		}
	case "DISTINCT_MODIFIER":
		if w.fields(m, "DISTINCT", "type", "distinct_on_targets") {
			for _, e := range asList(m["distinct_on_targets"]) {
				w.expr(e, sc)
			}
		}
	default:
		w.fail(-1, "unsupported result modifier (%s)", strings.ToLower(t))
	}
}

func (w *walker) orders(v any, sc *scope) {
	for _, o := range asList(v) {
		om, ok := asMap(o)
		if !ok || !w.fields(om, "ORDER BY", "type", "null_order", "expression") {
			w.fail(-1, "unsupported ORDER BY")
			return
		}
		w.expr(om["expression"], sc)
	}
}

func (w *walker) sample(s map[string]any) {
	// repeatable (DuckDB 2.0) says whether a seed was given; sample_rate
	// (2.0) is -1 for every sample syntax 1.5.6 had: another value is syntax
	// this guard has not reviewed.
	if !w.fields(s, "sample", "sample_size", "is_percentage", "method", "seed", "repeatable", "sample_rate") {
		return
	}
	if r, ok := s["sample_rate"]; ok {
		if f, ok := jsonFloat(r); !ok || f != -1 {
			w.fail(-1, "unsupported sample (sample_rate)")
		}
	}
}

// jsonFloat is a JSON number's value.
func jsonFloat(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// qualifiedName checks the qualified_name DuckDB 2.0 writes beside the
// separate name fields of a table, function or type: its path must be
// exactly those names (catalog, schema, name; empty ones left out), so that
// whichever of the two DuckDB binds, it is what was checked.
func (w *walker) qualifiedName(n map[string]any, p int, parts ...string) {
	var want []string
	for _, s := range parts {
		if s != "" {
			want = append(want, s)
		}
	}
	v, present := n["qualified_name"]
	if !present {
		if len(want) > 0 {
			w.fail(p, "unsupported name (no qualified_name)")
		}
		return
	}
	q, ok := asMap(v)
	if !ok || !w.fields(q, "name", "path") {
		w.fail(p, "unsupported name")
		return
	}
	path := asList(q["path"])
	if len(path) != len(want) {
		w.fail(p, "unsupported name (%s)", strings.Join(want, "."))
		return
	}
	for i, e := range path {
		if s, ok := e.(string); !ok || s != want[i] {
			w.fail(p, "unsupported name (%s)", strings.Join(want, "."))
			return
		}
	}
}

// ---- table references -------------------------------------------------

var tableRefCommon = []string{"type", "alias", "sample", "query_location", "query_location_length"}

func (w *walker) tableRef(t map[string]any, sc *scope) {
	if !w.enter() {
		return
	}
	defer w.leave()
	if s, ok := asMap(t["sample"]); ok {
		w.sample(s)
	}
	switch typ := str(t, "type"); typ {
	case "BASE_TABLE":
		if !w.fields(t, "table", append(tableRefCommon, "schema_name", "table_name", "column_name_alias", "catalog_name", "at_clause",
			"qualified_name")...) {
			return
		}
		w.qualifiedName(t, loc(t), str(t, "catalog_name"), str(t, "schema_name"), str(t, "table_name"))
		if w.err != nil {
			return
		}
		w.baseTable(t, sc)
	case "JOIN":
		if !w.fields(t, "join", append(tableRefCommon, "left", "right", "condition", "join_type", "ref_type", "using_columns",
			"delim_flipped", "duplicate_eliminated_columns", "is_implicit", "nearest_count", "nearest_order_type", "nearest_approx")...) {
			return
		}
		if len(asList(t["duplicate_eliminated_columns"])) > 0 {
			w.fail(loc(t), "unsupported join")
			return
		}
		// DuckDB 2.0's nearest_* fields: every join 1.5.6 could write has
		// them at these values; others are syntax not reviewed here.
		if c, ok := t["nearest_count"]; ok {
			if f, ok := jsonFloat(c); !ok || f != 1 {
				w.fail(loc(t), "unsupported join (nearest_count)")
				return
			}
		}
		if o, ok := t["nearest_order_type"]; ok && o != "ASCENDING" {
			w.fail(loc(t), "unsupported join (nearest_order_type)")
			return
		}
		if a, ok := t["nearest_approx"]; ok && a != false {
			w.fail(loc(t), "unsupported join (nearest_approx)")
			return
		}
		for _, k := range []string{"left", "right"} {
			if c, ok := asMap(t[k]); ok {
				w.tableRef(c, sc)
			} else {
				w.fail(loc(t), "unsupported join")
			}
		}
		if c, ok := t["condition"]; ok {
			w.expr(c, sc)
		}
	case "SUBQUERY":
		if !w.fields(t, "subquery", append(tableRefCommon, "subquery", "column_name_alias")...) {
			return
		}
		w.selectStatement(t["subquery"], sc)
	case "TABLE_FUNCTION":
		if !w.fields(t, "table function", append(tableRefCommon, "function", "column_name_alias", "with_ordinality")...) {
			return
		}
		f, ok := asMap(t["function"])
		if !ok || str(f, "class") != "FUNCTION" {
			w.fail(loc(t), "unsupported table function")
			return
		}
		w.function(f, sc, true)
	case "EMPTY", "EMPTY_FROM":
		w.fields(t, "FROM", tableRefCommon...)
	case "EXPRESSION_LIST":
		if !w.fields(t, "VALUES", append(tableRefCommon, "values")...) {
			return
		}
		for _, row := range asList(t["values"]) {
			for _, e := range asList(row) {
				w.expr(e, sc)
			}
		}
	case "PIVOT":
		if !w.fields(t, "PIVOT", append(tableRefCommon, "source", "aggregates", "unpivot_names", "pivots", "groups",
			"column_name_alias", "include_nulls")...) {
			return
		}
		if src, ok := asMap(t["source"]); ok {
			w.tableRef(src, sc)
		} else {
			w.fail(loc(t), "unsupported PIVOT")
			return
		}
		for _, e := range asList(t["aggregates"]) {
			w.expr(e, sc)
		}
		for _, p := range asList(t["pivots"]) {
			pm, ok := asMap(p)
			if !ok || !w.fields(pm, "PIVOT", "pivot_expressions", "unpivot_names", "entries", "pivot_enum") {
				w.fail(loc(t), "unsupported PIVOT")
				return
			}
			if str(pm, "pivot_enum") != "" {
				w.fail(loc(t), "PIVOT … IN <enum type> is not allowed; list the values")
				return
			}
			for _, e := range asList(pm["pivot_expressions"]) {
				w.expr(e, sc)
			}
			for _, en := range asList(pm["entries"]) {
				em, ok := asMap(en)
				// DuckDB 2.0 writes the values of a PIVOT's IN list as
				// expressions in star_expr, as it writes UNPIVOT's columns
				// (1.5.6: values, a list of constant values, and a list with
				// anything else could not be serialised, so was refused).
				if !ok || !w.fields(em, "PIVOT", "star_expr", "alias") {
					w.fail(loc(t), "unsupported PIVOT")
					return
				}
				if _, isPivot := pm["pivot_expressions"]; isPivot && !isConstant(em["star_expr"]) {
					w.fail(loc(t), "PIVOT needs an explicit IN list here (PIVOT t ON col IN ('a', 'b') USING sum(x))")
					return
				}
				w.expr(em["star_expr"], sc)
			}
		}
	case "SHOW_REF":
		if !w.fields(t, "DESCRIBE", append(tableRefCommon, "table_name", "query", "show_type", "catalog_name", "schema_name",
			"qualified_name")...) {
			return
		}
		st := str(t, "show_type")
		q, ok := asMap(t["query"])
		qn, _ := asMap(t["qualified_name"])
		if st == "SHOW" && str(t, "catalog_name") == "" && str(t, "schema_name") == "" && !ok {
			// DuckDB 2.0 writes SHOW <name> as a SHOW of that name, not as
			// DESCRIBE of a query over it (1.5.6 did): it is refused.
			if _, isRel := w.cat.Relation(foldName(str(t, "table_name"))); isRel {
				w.fail(loc(t), "SHOW %s is not allowed; write DESCRIBE %s", str(t, "table_name"), str(t, "table_name"))
				return
			}
		}
		if !ok || str(t, "table_name") != "" || str(t, "catalog_name") != "" || str(t, "schema_name") != "" ||
			len(asList(qn["path"])) > 0 || (st != "DESCRIBE" && st != "SUMMARY") {
			w.fail(loc(t), "SHOW and DESCRIBE of the database are not allowed; DESCRIBE or SUMMARIZE a relation you may read")
			return
		}
		w.qualifiedName(t, loc(t))
		if w.err != nil {
			return
		}
		was := w.show
		w.show = true
		w.queryNode(q, sc)
		w.show = was
	default:
		w.fail(loc(t), "unsupported FROM item (%s)", strings.ToLower(typ))
	}
}

// isConstant says whether v is a constant, or a cast of one (DATE '2024-01-01').
func isConstant(v any) bool {
	e, _ := asMap(v)
	switch str(e, "class") {
	case "CONSTANT":
		return true
	case "CAST":
		return isConstant(e["child"])
	}
	return false
}

func (w *walker) baseTable(t map[string]any, sc *scope) {
	name := str(t, "table_name")
	lname := foldName(name)
	full := name
	if s := str(t, "schema_name"); s != "" {
		full = s + "." + full
	}
	if c := str(t, "catalog_name"); c != "" {
		full = c + "." + full
	}
	if full != name {
		w.fail(loc(t), "relation %s: qualified names are not allowed; use %s", full, name)
		return
	}
	if _, ok := t["at_clause"]; ok {
		w.fail(loc(t), "relation %s: AT (time travel) is not allowed", name)
		return
	}
	if sc.has(lname) {
		return // a CTE of the query
	}
	if _, ok := w.cat.Relation(lname); !ok {
		w.fail(loc(t), "relation %s is not available (the relations you may read are listed in the schema browser)", name)
		return
	}
	w.rels[lname] = true
	w.refs = append(w.refs, tableRef{node: t, name: lname, loc: loc(t), show: w.show})
}

func (w *walker) selectStatement(v any, sc *scope) {
	m, ok := asMap(v)
	if !ok || !w.fields(m, "subquery", "node", "named_param_map") {
		w.fail(-1, "unsupported subquery")
		return
	}
	node, ok := asMap(m["node"])
	if !ok {
		w.fail(-1, "unsupported subquery")
		return
	}
	w.queryNode(node, sc)
}

// ---- expressions ------------------------------------------------------

var exprCommon = []string{"class", "type", "alias", "query_location", "query_location_length"}

// collationRE matches collation names (nocase, noaccent.nocase, zh_cn…).
var collationRE = regexp.MustCompile(`^[a-z_][a-z0-9_.]*$`)

// allowedOperators are the OPERATOR expression types.
var allowedOperators = set("OPERATOR_NOT", "OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL", "COMPARE_IN", "COMPARE_NOT_IN",
	"OPERATOR_COALESCE", "ARRAY_EXTRACT", "ARRAY_SLICE", "STRUCT_EXTRACT", "ARRAY_CONSTRUCTOR", "ARROW", "OPERATOR_TRY",
	"OPERATOR_UNPACK")

func (w *walker) expr(v any, sc *scope) {
	e, ok := asMap(v)
	if !ok {
		w.fail(-1, "unsupported expression")
		return
	}
	if !w.enter() {
		return
	}
	defer w.leave()
	p := loc(e)
	switch class := str(e, "class"); class {
	case "BETWEEN":
		if w.fields(e, "BETWEEN", append(exprCommon, "input", "lower", "upper")...) {
			w.expr(e["input"], sc)
			w.expr(e["lower"], sc)
			w.expr(e["upper"], sc)
		}
	case "CASE":
		if !w.fields(e, "CASE", append(exprCommon, "case_checks", "else_expr")...) {
			return
		}
		for _, c := range asList(e["case_checks"]) {
			cm, ok := asMap(c)
			if !ok || !w.fields(cm, "CASE", "when_expr", "then_expr") {
				w.fail(p, "unsupported CASE")
				return
			}
			w.expr(cm["when_expr"], sc)
			w.expr(cm["then_expr"], sc)
		}
		if x, ok := e["else_expr"]; ok {
			w.expr(x, sc)
		}
	case "CAST":
		// DuckDB 2.0: the target type is an expression of class TYPE in
		// type_expr (1.5.6: a logical type in cast_type).
		if w.fields(e, "CAST", append(exprCommon, "child", "type_expr", "try_cast")...) {
			w.expr(e["child"], sc)
			w.typeExpr(e["type_expr"], p, sc)
		}
	case "COLLATE":
		if w.fields(e, "COLLATE", append(exprCommon, "child", "collation")...) {
			w.expr(e["child"], sc)
			if c := str(e, "collation"); !collationRE.MatchString(c) {
				w.fail(p, "collation %q is not allowed", c)
			}
		}
	case "COLUMN_REF":
		w.fields(e, "column", append(exprCommon, "column_names")...)
	case "LAMBDA_REF":
		w.fields(e, "lambda", append(exprCommon, "lambda_idx", "column_name")...)
	case "COMPARISON":
		if w.fields(e, "comparison", append(exprCommon, "left", "right")...) {
			w.expr(e["left"], sc)
			w.expr(e["right"], sc)
		}
	case "CONJUNCTION":
		if w.fields(e, "AND/OR", append(exprCommon, "children")...) {
			for _, c := range asList(e["children"]) {
				w.expr(c, sc)
			}
		}
	case "CONSTANT":
		if w.fields(e, "constant", append(exprCommon, "literal")...) {
			w.literal(e["literal"], p)
		}
	case "FUNCTION":
		w.function(e, sc, false)
	case "LAMBDA":
		if w.fields(e, "lambda", append(exprCommon, "lhs", "expr", "syntax_type")...) {
			w.expr(e["lhs"], sc)
			w.expr(e["expr"], sc)
		}
	case "OPERATOR":
		if !w.fields(e, "operator", append(exprCommon, "children")...) {
			return
		}
		if t := str(e, "type"); !allowedOperators[strings.ToLower(t)] {
			w.fail(p, "operator %s is not allowed", strings.ToLower(t))
			return
		}
		for _, c := range asList(e["children"]) {
			w.expr(c, sc)
		}
	case "PARAMETER":
		if w.fields(e, "parameter", append(exprCommon, "identifier")...) {
			w.params[str(e, "identifier")] = true
		}
	case "POSITIONAL_REFERENCE":
		w.fields(e, "positional reference", append(exprCommon, "index")...)
	case "STAR":
		if !w.fields(e, "*", append(exprCommon, "relation_name", "exclude_list", "replace_list", "columns", "expr", "unpacked",
			"qualified_exclude_list", "rename_list")...) {
			return
		}
		for _, r := range asList(e["replace_list"]) {
			rm, ok := asMap(r)
			if !ok || !w.fields(rm, "REPLACE", "key", "value") {
				w.fail(p, "unsupported * REPLACE")
				return
			}
			w.expr(rm["value"], sc)
		}
		if x, ok := e["expr"]; ok {
			w.expr(x, sc)
		}
	case "SUBQUERY":
		if !w.fields(e, "subquery", append(exprCommon, "subquery_type", "subquery", "child", "comparison_type")...) {
			return
		}
		w.selectStatement(e["subquery"], sc)
		if c, ok := e["child"]; ok {
			w.expr(c, sc)
		}
	case "WINDOW":
		// DuckDB 2.0: the arguments (lag's offset and default included,
		// 1.5.6's offset_expr and default_expr) are in arguments;
		// has_ignore_nulls says whether IGNORE/RESPECT NULLS was written.
		if !w.fields(e, "window function", append(exprCommon, "function_name", "schema", "catalog", "arguments", "partitions",
			"orders", "start", "end", "start_expr", "end_expr", "ignore_nulls", "has_ignore_nulls", "filter_expr",
			"exclude_clause", "distinct", "arg_orders", "qualified_name")...) {
			return
		}
		name := strings.ToLower(str(e, "function_name"))
		if str(e, "schema") != "" || str(e, "catalog") != "" {
			w.fail(p, "function %s: qualified names are not allowed; use %s", qualified(e, "schema", "catalog", name), name)
			return
		}
		w.qualifiedName(e, p, str(e, "catalog"), str(e, "schema"), str(e, "function_name"))
		if w.err != nil {
			return
		}
		if !allowedFunctions[name] || deniedFunctions[name] {
			w.fail(p, "function %s is not allowed", name)
			return
		}
		w.funcs[name] = true
		w.arguments(e, p, sc)
		for _, c := range asList(e["partitions"]) {
			w.expr(c, sc)
		}
		w.orders(e["orders"], sc)
		w.orders(e["arg_orders"], sc)
		for _, k := range []string{"start_expr", "end_expr", "filter_expr"} {
			if x, ok := e[k]; ok {
				w.expr(x, sc)
			}
		}
	default:
		w.fail(p, "unsupported expression (%s)", strings.ToLower(class))
	}
}

func qualified(e map[string]any, schemaKey, catalogKey, name string) string {
	parts := []string{}
	if c := str(e, catalogKey); c != "" {
		parts = append(parts, c)
	}
	if s := str(e, schemaKey); s != "" {
		parts = append(parts, s)
	}
	return strings.Join(append(parts, name), ".")
}

func (w *walker) function(e map[string]any, sc *scope, table bool) {
	if !w.fields(e, "function", append(exprCommon, "function_name", "schema", "arguments", "filter", "order_bys", "distinct",
		"is_operator", "export_state", "catalog", "qualified_name")...) {
		return
	}
	p := loc(e)
	name := strings.ToLower(str(e, "function_name"))
	if str(e, "catalog") != "" || (str(e, "schema") != "" && !(str(e, "schema") == "main" && parserSchemaMain[name])) {
		w.fail(p, "function %s: qualified names are not allowed; use %s", qualified(e, "schema", "catalog", name), name)
		return
	}
	w.qualifiedName(e, p, str(e, "catalog"), str(e, "schema"), str(e, "function_name"))
	if w.err != nil {
		return
	}
	if b, _ := e["export_state"].(bool); b {
		w.fail(p, "function %s: EXPORT_STATE is not allowed", name)
		return
	}
	allowed := allowedFunctions
	if table {
		allowed = allowedTableFunctions
	}
	if !allowed[name] || deniedFunctions[name] {
		if table {
			if _, isRel := w.cat.Relation(name); isRel {
				w.fail(p, "%s is a relation, not a table function: write FROM %s", name, name)
				return
			}
			w.fail(p, "table function %s is not allowed", name)
		} else {
			w.fail(p, "function %s is not allowed", name)
		}
		return
	}
	w.funcs[name] = true
	children := w.arguments(e, p, sc)
	if f, ok := e["filter"]; ok {
		w.expr(f, sc)
	}
	if ob, ok := asMap(e["order_bys"]); ok {
		if w.fields(ob, "ORDER BY", "type", "orders") {
			w.orders(ob["orders"], sc)
		}
	} else if _, present := e["order_bys"]; present {
		w.fail(p, "unsupported ORDER BY")
	}
	w.bounds(name, children, p, table)
}

// arguments walks a function's arguments (DuckDB 2.0: a list of
// {expression, name}, name for a named argument such as recursive := true;
// 1.5.6 had the expressions in children) and returns their expressions in
// order.
func (w *walker) arguments(e map[string]any, p int, sc *scope) []any {
	var out []any
	for _, a := range asList(e["arguments"]) {
		am, ok := asMap(a)
		if !ok || !w.fields(am, "function argument", "expression", "name") {
			w.fail(p, "unsupported function argument")
			return nil
		}
		if n, ok := am["name"]; ok {
			if _, isStr := n.(string); !isStr {
				w.fail(p, "unsupported function argument")
				return nil
			}
		}
		x, ok := am["expression"]
		if !ok {
			w.fail(p, "unsupported function argument")
			return nil
		}
		w.expr(x, sc)
		out = append(out, x)
	}
	return out
}

// bounds refuses constant arguments that would make a result too large to
// hold (the worker's memory limit stops the others).
func (w *walker) bounds(name string, args []any, p int, table bool) {
	if (name == "range" || name == "generate_series") && !table {
		nums := make([]float64, 0, 3)
		for _, a := range args {
			f, ok := constNumber(a)
			if !ok {
				return // not constant: the memory limit applies
			}
			nums = append(nums, f)
		}
		var span float64
		switch len(nums) {
		case 1:
			span = nums[0]
		case 2:
			span = nums[1] - nums[0]
		case 3:
			if nums[2] != 0 {
				span = (nums[1] - nums[0]) / nums[2]
			}
		}
		if math.Abs(span) > maxListSpan {
			w.fail(p, "%s: a list of %.0f elements is larger than the limit of %d", name, math.Abs(span), maxListSpan)
		}
		return
	}
	for _, b := range sizeArgs[name] {
		if b.max == 0 || b.index >= len(args) {
			continue
		}
		if f, ok := constNumber(args[b.index]); ok && f > b.max {
			w.fail(p, "%s: %.0f is larger than the limit of %.0f", name, f, b.max)
		}
	}
}

// constNumber is the value of a numeric constant (also under a cast, as in
// 1e9::INT).
func constNumber(v any) (float64, bool) {
	e, ok := asMap(v)
	if !ok {
		return 0, false
	}
	switch str(e, "class") {
	case "CAST":
		return constNumber(e["child"])
	case "CONSTANT":
		// DuckDB 2.0 writes a constant as its literal text and kind (1.5.6:
		// a typed value). 1_000_000 is a number too.
		lit, ok := asMap(e["literal"])
		if !ok {
			return 0, false
		}
		switch str(lit, "kind") {
		case "INTEGER", "NUMERIC":
			f, err := strconv.ParseFloat(strings.ReplaceAll(str(lit, "text"), "_", ""), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// ---- types and constants -------------------------------------------------

// allowedTypeNames are the type names a cast may name. DuckDB 2.0 writes
// every type as a name (type_name of a TYPE expression; nested types are
// STRUCT, MAP, UNION, list and array with the element types as children),
// bound later against the catalog: on 1.5.6 the parser bound the built-in
// types itself and left the others unbound by name. The set is both of
// 1.5.6's lists folded to names: the built-in types it allowed and the names
// it allowed unbound. Anything else (a user type, GEOMETRY, INET, VARIANT)
// is refused, as it was.
var allowedTypeNames = set(
	// built-in types as DuckDB names them
	"boolean", "tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint", "uinteger", "ubigint",
	"uhugeint", "float", "double", "decimal", "varchar", "char", "blob", "date", "time", "time with time zone",
	"timestamp", "timestamp with time zone", "timestamp_s", "timestamp_ms", "timestamp_ns", "interval", "uuid",
	"list", "struct", "map", "array", "union", "bit", "bignum", "varint", "enum",
	// other names DuckDB defines
	"json", "int", "text", "string", "real", "numeric", "bool", "timestamptz", "bytea", "int8", "int4", "int2", "int1",
	"int16", "int32", "int64", "int128", "float4", "float8", "long", "short", "signed", "datetime", "bitstring", "bpchar",
	"nvarchar", "logical", "binary", "varbinary", "oid", "timetz", "timestamp_us",
	// 1.5.6 read GEOMETRY as a BLOB under another name, and "null" as its
	// NULL type: both were allowed
	"geometry", "null")

// typeExpr checks a TYPE expression (DuckDB 2.0; 1.5.6 had a logical type):
// an allowed, unqualified type name whose children are its element types
// (TYPE, for STRUCT, MAP, UNION, list, array) and its modifiers (constants:
// DECIMAL(18, 2), VARCHAR(10), ENUM('a', 'b'), the size of an array). The
// parser only takes constants as modifiers; anything else is refused here.
func (w *walker) typeExpr(v any, p int, sc *scope) {
	t, ok := asMap(v)
	if !ok || str(t, "class") != "TYPE" || str(t, "type") != "TYPE" {
		w.fail(p, "unsupported type")
		return
	}
	if !w.enter() {
		return
	}
	defer w.leave()
	if !w.fields(t, "type", append(exprCommon, "type_name", "children", "schema", "catalog", "qualified_name")...) {
		return
	}
	name := str(t, "type_name")
	if str(t, "catalog") != "" || str(t, "schema") != "" {
		w.fail(p, "type %s: qualified type names are not allowed", qualified(t, "schema", "catalog", name))
		return
	}
	w.qualifiedName(t, p, name)
	if w.err != nil {
		return
	}
	if !allowedTypeNames[strings.ToLower(name)] {
		w.fail(p, "type %s is not allowed", strings.ToLower(name))
		return
	}
	for _, c := range asList(t["children"]) {
		cm, _ := asMap(c)
		switch str(cm, "class") {
		case "TYPE":
			w.typeExpr(cm, p, sc)
		case "CONSTANT":
			w.expr(cm, sc)
		default:
			w.fail(p, "type %s: unsupported type modifier", strings.ToLower(name))
			return
		}
	}
}

// literalKinds are the kinds of a constant's literal (DuckDB 2.0 writes a
// constant as its text and kind; 1.5.6 wrote a typed value, of a type this
// guard allowed).
var literalKinds = set("integer", "numeric", "string", "boolean", "null_literal", "hex", "bit")

// literal checks a constant (its content is data).
func (w *walker) literal(v any, p int) {
	l, ok := asMap(v)
	if !ok || !w.fields(l, "constant", "kind", "text") {
		w.fail(p, "unsupported constant")
		return
	}
	if k := str(l, "kind"); !literalKinds[strings.ToLower(k)] {
		w.fail(p, "unsupported constant (%s)", strings.ToLower(k))
		return
	}
	if t, ok := l["text"]; ok {
		if _, isStr := t.(string); !isStr {
			w.fail(p, "unsupported constant")
		}
	}
}

// foldName folds an identifier the way DuckDB compares them: ASCII letters
// only (strings.ToLower would also fold the Kelvin sign to k).
func foldName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *Checked) String() string {
	return fmt.Sprintf("adhoc.Checked{relations: %v, functions: %v}", c.Relations, c.Functions)
}
