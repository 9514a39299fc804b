package adhoc

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Scope is the data scope a query runs with: the three arguments of every
// scoped relation (scope_all, scope_org, scope_rep). Its fields match
// access.Scope, so a front end converts with adhoc.Scope(s). The zero Scope
// sees nothing.
type Scope struct {
	All bool   // executive, admin: everything
	Org string // manager, analyst: this org unit and its subtree
	Rep string // rep: their own customers and deals
}

// Key identifies the scope in logs and in the audit trail.
func (s Scope) Key() string {
	switch {
	case s.All:
		return "all"
	case s.Org != "" && s.Rep != "":
		return "org:" + s.Org + "+rep:" + s.Rep
	case s.Org != "":
		return "org:" + s.Org
	case s.Rep != "":
		return "rep:" + s.Rep
	}
	return "none"
}

// Args are the scope as SQL literals, in the order of the scoped macros'
// parameters: "false, 'U12', NULL". Literals, not bound parameters: the
// scope is part of a view's definition.
func (s Scope) Args() string {
	all := "false"
	if s.All {
		all = "true"
	}
	return all + ", " + nullableLiteral(s.Org) + ", " + nullableLiteral(s.Rep)
}

// Column describes one column of a relation for the schema browser.
type Column struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Comment string `json:"comment,omitempty"`
}

// Relation is one name an analyst may read.
type Relation struct {
	// Name is the analyst-facing name (customers, mart_rfm, …): a plain
	// lower-case identifier. Queries use it unqualified.
	Name string
	// Comment describes the relation in the schema browser.
	Comment string
	// Define returns the SELECT that defines the relation for a scope,
	// over the snapshot (which is the worker's default catalog: write
	// main.customers or scoped.customers(…), never a catalog name).
	// It is trusted SQL: it runs as written, inside a temporary view.
	Define func(Scope) string
}

// Catalog is what ad hoc SQL may read: the relation allowlist and, for each
// relation, the SQL that defines it for a scope. The server builds one from
// the warehouse's scoped relations (StandardCatalog) and hands it to Check
// and to the Sandbox.
type Catalog struct {
	rels  map[string]Relation
	names []string
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// NewCatalog validates the relations (plain lower-case names, no duplicates,
// a definition each) and returns the catalog.
func NewCatalog(rels ...Relation) (*Catalog, error) {
	c := &Catalog{rels: map[string]Relation{}}
	for _, r := range rels {
		if !identRE.MatchString(r.Name) || strings.HasPrefix(r.Name, viewPrefix) {
			return nil, fmt.Errorf("adhoc catalog: relation name %q must be a lower-case identifier not starting with %s", r.Name, viewPrefix)
		}
		if _, dup := c.rels[r.Name]; dup {
			return nil, fmt.Errorf("adhoc catalog: relation %s listed twice", r.Name)
		}
		if r.Define == nil {
			return nil, fmt.Errorf("adhoc catalog: relation %s has no definition", r.Name)
		}
		c.rels[r.Name] = r
		c.names = append(c.names, r.Name)
	}
	sort.Strings(c.names)
	return c, nil
}

// MustCatalog is NewCatalog that panics on a bad definition (for catalogs
// declared in code, checked at start like the chart registry).
func MustCatalog(rels ...Relation) *Catalog {
	c, err := NewCatalog(rels...)
	if err != nil {
		panic(err)
	}
	return c
}

// Names lists the relations in name order.
func (c *Catalog) Names() []string { return append([]string(nil), c.names...) }

// Relation looks a relation up by name (case-insensitive, as DuckDB does).
func (c *Catalog) Relation(name string) (Relation, bool) {
	r, ok := c.rels[foldName(name)]
	return r, ok
}

// ScopedMacro defines a relation as the table macro scoped.<name> called with
// the scope: SELECT * FROM scoped.customers(false, 'U12', NULL).
func ScopedMacro(name string) func(Scope) string {
	return func(s Scope) string {
		return "SELECT * FROM scoped." + quoteIdent(name) + "(" + s.Args() + ")"
	}
}

// FullTable defines a relation visible in full to every scope (a reference
// table): SELECT * FROM main.<name>.
func FullTable(name string) func(Scope) string {
	return func(Scope) string { return "SELECT * FROM main." + quoteIdent(name) }
}

// ReferenceTables are visible in full to every user (the list).
var ReferenceTables = []string{"org_units", "reps", "products", "partners", "campaigns", "stages", "fx_rates"}

// ScopedTables are the customer-data entities read through scoped.<name>.
var ScopedTables = []string{"customers", "opportunities", "opportunity_stages", "contracts", "payments",
	"payment_schedule", "contract_lines", "expenses", "activities", "targets"}

// StandardCatalog is the house convention: each scoped name (the entities
// above and every mart_* table) read through the table macro scoped.<name>,
// each reference table in full. comments gives a relation's comment (may be
// nil).
func StandardCatalog(scoped, reference []string, comments map[string]string) (*Catalog, error) {
	var rels []Relation
	for _, n := range scoped {
		rels = append(rels, Relation{Name: n, Comment: comments[n], Define: ScopedMacro(n)})
	}
	for _, n := range reference {
		rels = append(rels, Relation{Name: n, Comment: comments[n], Define: FullTable(n)})
	}
	return NewCatalog(rels...)
}

// ScopedCatalog reads every relation through the table macro
// scoped.<name>(scope_all, scope_org, scope_rep), reference tables included:
// the shape of access/sql/scoped.sql, where the reference macros read the
// live (not deleted) rows. names are the relations to offer (the analyst
// names: entities, reference tables, mart_*; not the helper macros such as
// customer_facts or visible_customers); comments may be nil.
func ScopedCatalog(names []string, comments map[string]string) (*Catalog, error) {
	rels := make([]Relation, 0, len(names))
	for _, n := range names {
		rels = append(rels, Relation{Name: n, Comment: comments[n], Define: ScopedMacro(n)})
	}
	return NewCatalog(rels...)
}

// viewPrefix names the temporary views that bind a relation for one query.
// Analyst SQL never sees these names: the guard refuses them (they are not in
// the catalog) and the planner splices them in after the check.
const viewPrefix = "_adhoc_"

func viewName(rel string) string { return viewPrefix + rel }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func nullableLiteral(s string) string {
	if s == "" {
		return "NULL"
	}
	return quoteLiteral(s)
}
