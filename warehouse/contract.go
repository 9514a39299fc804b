package warehouse

import (
	"fmt"
	"slices"
	"strings"
)

// The data contract, defined once: the entities a company's exports are
// loaded into, their columns with the DuckDB type, which are required, the
// allowed values of enumerations, the keys and the references between them.
//
// Who reads it:
//   - the migrations create the base tables. Migration 0001 (and the ALTERs
//     after it) stay as SQL, because a migration already applied to a user's
//     file must never change meaning; TestMigrationsMatchContract creates a
//     fresh warehouse and compares every base table's columns (duckdb_columns:
//     order, type, NOT NULL) with this definition, so a change to either that
//     is not made to the other fails the build. A new column is a new
//     migration plus a line here.
//   - the loader (etl) derives its entity registry from it: how each column's
//     text is parsed (from Type), required values, enumerations, negative
//     amounts, percentages, references; what only the loader knows (header
//     aliases, value words, cross-column checks) stays in etl.
//   - the demo generator (etl/synth) writes its files' headers and declared
//     types from it.
//
// Every base table also carries the bookkeeping columns _load_id (the load
// that last wrote the row) and _deleted_at (set when a snapshot no longer
// holds the row); they are not part of the contract a source file fills.

// ContractEntity is one entity of the data contract: one base table.
type ContractEntity struct {
	Name    string
	Key     []string // the columns that identify a row
	Columns []ContractColumn
	Refs    []ContractRef
}

// ContractColumn is one column of an entity.
type ContractColumn struct {
	Name     string
	Type     string   // DuckDB type as the DDL writes it: VARCHAR, DATE, TIMESTAMPTZ, DECIMAL(18,2), INTEGER, BOOLEAN
	Required bool     // NOT NULL
	Enum     []string // the allowed values (lower case), when the column is an enumeration
	Negative bool     // an amount that may be negative (refunds, credit notes)
	Percent  bool     // a percentage: 0 to 100
}

// ContractRef says that a column holds a key of another entity (its first key
// column). When is set when the reference holds only for some rows.
type ContractRef struct {
	Column string
	Entity string
	When   *ContractCond
}

// ContractCond is a condition on another column of the same row: Column is
// one of Values (or, with Not, none of them).
type ContractCond struct {
	Column string
	Values []string
	Not    bool
}

// The DuckDB types of the contract.
const (
	TypeText      = "VARCHAR"
	TypeDate      = "DATE"
	TypeTimestamp = "TIMESTAMPTZ"   // instants, stored in UTC
	TypeMoney     = "DECIMAL(18,2)" // amounts in their currency
	TypeInteger   = "INTEGER"
	TypeBoolean   = "BOOLEAN"
	TypePercent   = "DECIMAL(5,2)"
	TypeQuantity  = "DECIMAL(18,3)"
	TypeRate      = "DECIMAL(18,8)"
)

func text(name string) ContractColumn { return ContractColumn{Name: name, Type: TypeText} }
func reqd(c ContractColumn) ContractColumn {
	c.Required = true
	return c
}
func typed(name, typ string) ContractColumn { return ContractColumn{Name: name, Type: typ} }
func oneOf(name string, required bool, values ...string) ContractColumn {
	return ContractColumn{Name: name, Type: TypeText, Required: required, Enum: values}
}
func ref(column, entity string) ContractRef { return ContractRef{Column: column, Entity: entity} }

// Contract lists the entities in load order: every entity comes after the
// entities it references (self-references aside), so that references can be
// checked against rows loaded earlier in the same load.
var Contract = []*ContractEntity{
	{Name: "stages", Key: []string{"stage"}, Columns: []ContractColumn{
		reqd(text("stage")), reqd(typed("position", TypeInteger)),
		{Name: "default_probability", Type: TypePercent, Percent: true},
		reqd(typed("is_closed", TypeBoolean))}},
	{Name: "fx_rates", Key: []string{"currency", "on_date"}, Columns: []ContractColumn{
		reqd(text("currency")), reqd(typed("on_date", TypeDate)), reqd(typed("rate_to_base", TypeRate))}},
	{Name: "org_units", Key: []string{"org_unit_id"}, Columns: []ContractColumn{
		reqd(text("org_unit_id")), text("parent_id"), reqd(text("name")),
		oneOf("level", true, "company", "region", "branch", "department")},
		Refs: []ContractRef{ref("parent_id", "org_units")}},
	{Name: "reps", Key: []string{"rep_id"}, Columns: []ContractColumn{
		reqd(text("rep_id")), reqd(text("name")), reqd(text("org_unit_id")), text("manager_rep_id"),
		typed("hired_on", TypeDate), typed("left_on", TypeDate)},
		Refs: []ContractRef{ref("org_unit_id", "org_units"), ref("manager_rep_id", "reps")}},
	{Name: "products", Key: []string{"product_id"}, Columns: []ContractColumn{
		reqd(text("product_id")), reqd(text("name")), text("product_line"),
		typed("list_price", TypeMoney), typed("unit_cost", TypeMoney)}},
	{Name: "partners", Key: []string{"partner_id"}, Columns: []ContractColumn{
		reqd(text("partner_id")), reqd(text("name")), oneOf("kind", true, "agent", "distributor", "reseller"),
		text("org_unit_id")},
		Refs: []ContractRef{ref("org_unit_id", "org_units")}},
	{Name: "campaigns", Key: []string{"campaign_id"}, Columns: []ContractColumn{
		reqd(text("campaign_id")), reqd(text("name")), text("channel"),
		typed("started_on", TypeDate), typed("ended_on", TypeDate), typed("cost", TypeMoney)}},
	{Name: "customers", Key: []string{"customer_id"}, Columns: []ContractColumn{
		reqd(text("customer_id")), reqd(text("name")), text("industry"),
		oneOf("size_band", false, "micro", "small", "medium", "large", "enterprise"),
		text("org_unit_id"), text("city"), typed("created_at", TypeTimestamp), text("owner_rep_id"),
		text("source"), oneOf("lifecycle_stage", false, "target", "potential", "opportunity", "transaction", "service")},
		Refs: []ContractRef{ref("org_unit_id", "org_units"), ref("owner_rep_id", "reps")}},
	{Name: "opportunities", Key: []string{"opportunity_id"}, Columns: []ContractColumn{
		reqd(text("opportunity_id")), reqd(text("customer_id")), text("owner_rep_id"), text("partner_id"),
		text("product_id"), typed("amount", TypeMoney), text("currency"), text("stage"),
		{Name: "probability", Type: TypePercent, Percent: true},
		text("source"), text("campaign_id"), reqd(typed("created_at", TypeTimestamp)),
		typed("expected_close_on", TypeDate), typed("closed_on", TypeDate),
		oneOf("status", true, "open", "won", "lost"), text("close_reason"), text("competitor"),
		typed("updated_at", TypeTimestamp)},
		Refs: []ContractRef{ref("customer_id", "customers"), ref("owner_rep_id", "reps"),
			ref("partner_id", "partners"), ref("product_id", "products"),
			ref("campaign_id", "campaigns"), ref("stage", "stages")}},
	{Name: "opportunity_stages", Key: []string{"opportunity_id", "stage", "entered_at"}, Columns: []ContractColumn{
		reqd(text("opportunity_id")), reqd(text("stage")), reqd(typed("entered_at", TypeTimestamp))},
		Refs: []ContractRef{ref("opportunity_id", "opportunities"), ref("stage", "stages")}},
	{Name: "contracts", Key: []string{"contract_id"}, Columns: []ContractColumn{
		reqd(text("contract_id")), text("opportunity_id"), reqd(text("customer_id")), text("owner_rep_id"),
		reqd(typed("signed_on", TypeDate)), typed("start_on", TypeDate), typed("end_on", TypeDate),
		reqd(typed("amount", TypeMoney)), text("currency"),
		oneOf("status", false, "active", "completed", "terminated", "cancelled")},
		Refs: []ContractRef{ref("opportunity_id", "opportunities"), ref("customer_id", "customers"),
			ref("owner_rep_id", "reps")}},
	{Name: "contract_lines", Key: []string{"contract_id", "line_no"}, Columns: []ContractColumn{
		reqd(text("contract_id")), reqd(typed("line_no", TypeInteger)), reqd(text("product_id")),
		reqd(typed("quantity", TypeQuantity)), reqd(typed("unit_price", TypeMoney))},
		Refs: []ContractRef{ref("contract_id", "contracts"), ref("product_id", "products")}},
	{Name: "payment_schedule", Key: []string{"contract_id", "due_on"}, Columns: []ContractColumn{
		reqd(text("contract_id")), reqd(typed("due_on", TypeDate)), reqd(typed("amount", TypeMoney))},
		Refs: []ContractRef{ref("contract_id", "contracts")}},
	{Name: "payments", Key: []string{"payment_id"}, Columns: []ContractColumn{
		reqd(text("payment_id")), text("contract_id"), reqd(text("customer_id")), reqd(typed("paid_on", TypeDate)),
		{Name: "amount", Type: TypeMoney, Required: true, Negative: true}, text("currency"), text("method")},
		Refs: []ContractRef{ref("contract_id", "contracts"), ref("customer_id", "customers")}},
	{Name: "expenses", Key: []string{"expense_id"}, Columns: []ContractColumn{
		reqd(text("expense_id")), text("customer_id"), text("opportunity_id"), text("contract_id"),
		reqd(typed("incurred_on", TypeDate)), {Name: "amount", Type: TypeMoney, Required: true, Negative: true},
		text("currency"), text("category")},
		Refs: []ContractRef{ref("customer_id", "customers"), ref("opportunity_id", "opportunities"),
			ref("contract_id", "contracts")}},
	{Name: "activities", Key: []string{"activity_id"}, Columns: []ContractColumn{
		reqd(text("activity_id")), text("customer_id"), text("opportunity_id"), text("rep_id"),
		oneOf("kind", true, "visit", "call", "meeting", "email", "event"), reqd(typed("occurred_at", TypeTimestamp)),
		text("campaign_id")},
		Refs: []ContractRef{ref("customer_id", "customers"), ref("opportunity_id", "opportunities"),
			ref("rep_id", "reps"), ref("campaign_id", "campaigns")}},
	{Name: "targets", Key: []string{"scope", "scope_id", "period_start", "metric"}, Columns: []ContractColumn{
		oneOf("scope", true, "company", "region", "branch", "department", "rep"), reqd(text("scope_id")),
		reqd(typed("period_start", TypeDate)), reqd(typed("period_end", TypeDate)),
		oneOf("metric", true, "bookings", "collections"), reqd(typed("amount", TypeMoney))},
		Refs: []ContractRef{
			{Column: "scope_id", Entity: "reps", When: &ContractCond{Column: "scope", Values: []string{"rep"}}},
			{Column: "scope_id", Entity: "org_units", When: &ContractCond{Column: "scope", Values: []string{"rep"}, Not: true}}}},
}

// BookkeepingColumns are the columns every base table has after the contract's.
var BookkeepingColumns = []ContractColumn{{Name: "_load_id", Type: "BIGINT"}, {Name: "_deleted_at", Type: TypeTimestamp}}

// EntityOf finds an entity of the contract.
func EntityOf(name string) (*ContractEntity, bool) {
	for _, e := range Contract {
		if e.Name == name {
			return e, true
		}
	}
	return nil, false
}

// Column returns the named column.
func (e *ContractEntity) Column(name string) (ContractColumn, bool) {
	for _, c := range e.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return ContractColumn{}, false
}

func init() {
	if err := checkContract(); err != nil {
		panic("warehouse: the data contract is inconsistent: " + err.Error())
	}
}

// checkContract verifies what the type system cannot: keys, references and
// conditions name existing columns, and every entity comes after the
// entities it references.
func checkContract() error {
	seen := map[string]bool{}
	for _, e := range Contract {
		if seen[e.Name] {
			return fmt.Errorf("entity %s defined twice", e.Name)
		}
		for _, k := range e.Key {
			if c, ok := e.Column(k); !ok || !c.Required {
				return fmt.Errorf("%s: key column %s is not a required column", e.Name, k)
			}
		}
		for _, c := range e.Columns {
			if !strings.HasPrefix(c.Type, "DECIMAL(") && !slices.Contains([]string{TypeText, TypeDate, TypeTimestamp, TypeInteger, TypeBoolean}, c.Type) {
				return fmt.Errorf("%s.%s: type %s is not one the loader parses", e.Name, c.Name, c.Type)
			}
		}
		for _, r := range e.Refs {
			if _, ok := e.Column(r.Column); !ok {
				return fmt.Errorf("%s: reference from unknown column %s", e.Name, r.Column)
			}
			if r.Entity != e.Name && !seen[r.Entity] {
				return fmt.Errorf("%s.%s references %s, which is not defined before it", e.Name, r.Column, r.Entity)
			}
			if r.When != nil {
				if _, ok := e.Column(r.When.Column); !ok {
					return fmt.Errorf("%s: reference condition on unknown column %s", e.Name, r.When.Column)
				}
			}
		}
		seen[e.Name] = true
	}
	return nil
}
