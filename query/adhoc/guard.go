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
		if !w.fields(n, "set operation", append(queryNodeCommon, "setop_type", "left", "right", "setop_all", "children")...) {
			return
		}
		for _, k := range []string{"left", "right"} {
			if c, ok := asMap(n[k]); ok {
				w.queryNode(c, sc)
			}
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
		v, ok := asMap(e["value"])
		if !ok || !w.fields(v, "WITH", "aliases", "query", "materialized", "key_targets") {
			w.fail(-1, "unsupported WITH clause")
			return sc
		}
		q, ok := asMap(v["query"])
		if !ok || !w.fields(q, "WITH", "node", "named_param_map") {
			w.fail(-1, "unsupported WITH clause")
			return sc
		}
		body, ok := asMap(q["node"])
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
	case "LIMIT_MODIFIER", "LIMIT_PERCENT_MODIFIER":
		if w.fields(m, "LIMIT", "type", "limit", "offset") {
			for _, k := range []string{"limit", "offset"} {
				if e, ok := m[k]; ok {
					w.expr(e, sc)
				}
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
	w.fields(s, "sample", "sample_size", "is_percentage", "method", "seed")
}

// ---- table references -------------------------------------------------

var tableRefCommon = []string{"type", "alias", "sample", "query_location"}

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
		if !w.fields(t, "table", append(tableRefCommon, "schema_name", "table_name", "column_name_alias", "catalog_name", "at_clause")...) {
			return
		}
		w.baseTable(t, sc)
	case "JOIN":
		if !w.fields(t, "join", append(tableRefCommon, "left", "right", "condition", "join_type", "ref_type", "using_columns",
			"delim_flipped", "duplicate_eliminated_columns", "is_implicit")...) {
			return
		}
		if len(asList(t["duplicate_eliminated_columns"])) > 0 {
			w.fail(loc(t), "unsupported join")
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
		if !w.fields(t, "VALUES", append(tableRefCommon, "expected_names", "expected_types", "values")...) {
			return
		}
		for _, row := range asList(t["values"]) {
			for _, e := range asList(row) {
				w.expr(e, sc)
			}
		}
		for _, ty := range asList(t["expected_types"]) {
			w.logicalType(ty, loc(t))
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
				if !ok || !w.fields(em, "PIVOT", "values", "star_expr", "alias") {
					w.fail(loc(t), "unsupported PIVOT")
					return
				}
				if e, ok := em["star_expr"]; ok {
					w.expr(e, sc)
				}
				for _, v := range asList(em["values"]) {
					w.value(v, loc(t))
				}
			}
		}
	case "SHOW_REF":
		if !w.fields(t, "DESCRIBE", append(tableRefCommon, "table_name", "query", "show_type", "catalog_name", "schema_name")...) {
			return
		}
		st := str(t, "show_type")
		q, ok := asMap(t["query"])
		if !ok || str(t, "table_name") != "" || str(t, "catalog_name") != "" || str(t, "schema_name") != "" ||
			(st != "DESCRIBE" && st != "SUMMARY") {
			w.fail(loc(t), "SHOW and DESCRIBE of the database are not allowed; DESCRIBE or SUMMARIZE a relation you may read")
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

var exprCommon = []string{"class", "type", "alias", "query_location"}

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
		if w.fields(e, "CAST", append(exprCommon, "child", "cast_type", "try_cast")...) {
			w.expr(e["child"], sc)
			w.logicalType(e["cast_type"], p)
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
		if w.fields(e, "constant", append(exprCommon, "value")...) {
			w.value(e["value"], p)
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
		if !w.fields(e, "window function", append(exprCommon, "function_name", "schema", "catalog", "children", "partitions",
			"orders", "start", "end", "start_expr", "end_expr", "offset_expr", "default_expr", "ignore_nulls", "filter_expr",
			"exclude_clause", "distinct", "arg_orders")...) {
			return
		}
		name := strings.ToLower(str(e, "function_name"))
		if str(e, "schema") != "" || str(e, "catalog") != "" {
			w.fail(p, "function %s: qualified names are not allowed; use %s", qualified(e, "schema", "catalog", name), name)
			return
		}
		if !allowedFunctions[name] || deniedFunctions[name] {
			w.fail(p, "function %s is not allowed", name)
			return
		}
		w.funcs[name] = true
		for _, k := range []string{"children", "partitions"} {
			for _, c := range asList(e[k]) {
				w.expr(c, sc)
			}
		}
		w.orders(e["orders"], sc)
		w.orders(e["arg_orders"], sc)
		for _, k := range []string{"start_expr", "end_expr", "offset_expr", "default_expr", "filter_expr"} {
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
	if !w.fields(e, "function", append(exprCommon, "function_name", "schema", "children", "filter", "order_bys", "distinct",
		"is_operator", "export_state", "catalog")...) {
		return
	}
	p := loc(e)
	name := strings.ToLower(str(e, "function_name"))
	if str(e, "catalog") != "" || (str(e, "schema") != "" && !(str(e, "schema") == "main" && parserSchemaMain[name])) {
		w.fail(p, "function %s: qualified names are not allowed; use %s", qualified(e, "schema", "catalog", name), name)
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
	children := asList(e["children"])
	for _, c := range children {
		w.expr(c, sc)
	}
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
		val, ok := asMap(e["value"])
		if !ok {
			return 0, false
		}
		switch x := val["value"].(type) {
		case json.Number:
			f, err := x.Float64()
			return f, err == nil
		case string:
			f, err := strconv.ParseFloat(x, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// ---- types and values ---------------------------------------------------

var allowedTypeIDs = set("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
	"UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "VARCHAR", "CHAR", "BLOB", "DATE", "TIME",
	"TIME WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS",
	"INTERVAL", "UUID", "LIST", "STRUCT", "MAP", "ARRAY", "UNION", "BIT", "BIGNUM", "VARINT", "NULL", "SQLNULL",
	"UNBOUND", "ENUM")

// allowedTypeNames are the type names the parser leaves unbound but DuckDB
// defines itself.
var allowedTypeNames = set("json", "enum", "int", "integer", "bigint", "smallint", "tinyint", "hugeint", "varchar",
	"text", "string", "double", "float", "real", "decimal", "numeric", "boolean", "bool", "date", "time", "timestamp",
	"timestamptz", "interval", "uuid", "blob", "bytea", "ubigint", "uinteger", "usmallint", "utinyint", "uhugeint",
	"int8", "int4", "int2", "int1", "int16", "int32", "int64", "int128", "float4", "float8", "long", "short", "signed",
	"datetime", "bit", "bitstring", "varint", "bignum", "char", "bpchar", "nvarchar", "logical", "binary", "varbinary",
	"oid", "timestamp with time zone", "time with time zone", "timetz", "timestamp_s", "timestamp_ms", "timestamp_ns",
	"timestamp_us", "union", "map", "struct", "list")

// logicalType refuses user-defined types (a name looked up in some catalog)
// and anything it does not know.
func (w *walker) logicalType(v any, p int) {
	t, ok := asMap(v)
	if !ok {
		w.fail(p, "unsupported type")
		return
	}
	id := str(t, "id")
	if !allowedTypeIDs[strings.ToLower(id)] {
		w.fail(p, "type %s is not allowed", strings.ToLower(id))
		return
	}
	info, ok := asMap(t["type_info"])
	if !ok {
		return
	}
	if str(info, "catalog") != "" || str(info, "schema") != "" {
		w.fail(p, "type %s: qualified type names are not allowed", qualified(info, "schema", "catalog", str(info, "name")))
		return
	}
	if id == "UNBOUND" {
		if n := strings.ToLower(str(info, "name")); !allowedTypeNames[n] {
			w.fail(p, "type %s is not allowed", n)
			return
		}
		for _, m := range asList(info["user_type_modifiers"]) {
			w.value(m, p)
		}
	}
	if c, ok := info["child_type"]; ok {
		w.logicalType(c, p)
	}
	for _, c := range asList(info["child_types"]) {
		if cm, ok := asMap(c); ok {
			w.logicalType(cm["second"], p)
		}
	}
}

// value checks a constant's type (its content is data).
func (w *walker) value(v any, p int) {
	m, ok := asMap(v)
	if !ok {
		w.fail(p, "unsupported constant")
		return
	}
	if t, ok := m["type"]; ok {
		w.logicalType(t, p)
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
