// Package etl loads source files into the warehouse: it reads CSV, Parquet and
// NDJSON, validates every value against the data contract, quarantines bad
// rows with file, line, column and reason, and applies a whole load as one
// transaction (staging → deduplicate → upsert by key).
package etl

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is the type of a contract column, and so how its text is parsed.
type Kind int

const (
	Text Kind = iota
	Date
	Timestamp
	Money   // DECIMAL(18,2)
	Decimal // other DECIMAL (quantities, rates, percentages)
	Integer
	Boolean
)

// SQLType is the DuckDB type values of this kind are cast to in staging.
func (k Kind) SQLType(c Column) string {
	switch k {
	case Date:
		return "DATE"
	case Timestamp:
		return "TIMESTAMPTZ"
	case Money:
		return "DECIMAL(18,2)"
	case Decimal:
		if c.SQLType != "" {
			return c.SQLType
		}
		return "DECIMAL(18,4)"
	case Integer:
		return "INTEGER"
	case Boolean:
		return "BOOLEAN"
	}
	return "VARCHAR"
}

func (k Kind) describe() string {
	switch k {
	case Date:
		return "a date (YYYY-MM-DD)"
	case Timestamp:
		return "a timestamp (YYYY-MM-DD HH:MM:SS with optional +08:00)"
	case Money:
		return "an amount (digits with up to 2 decimals, no thousands separators)"
	case Decimal:
		return "a number"
	case Integer:
		return "a whole number"
	case Boolean:
		return "true or false"
	}
	return "text"
}

// Column is one column of an entity with its validation rules.
type Column struct {
	Name     string
	Kind     Kind
	SQLType  string   // for Decimal columns whose precision differs from DECIMAL(18,4)
	Required bool     // NOT NULL in the warehouse
	Enum     []string // allowed values (compared trimmed, lower case)
	Negative bool     // amounts may be negative (refunds, credit notes)
	Percent  bool     // must lie in 0..100
	Aliases  []string // other header names accepted for this column (canonical form, see canonHeader)
	// Values maps source values (normLower form) to contract values for enum
	// columns: 赢单 → won. Built in for the common Chinese and English words.
	Values map[string]string
}

// keyLike is true for identifier columns: keys, references, codes. Their text
// is NFKC-normalised and trimmed for matching; other text (names, cities) is
// kept as written, only trimmed.
func (e *Entity) keyLike(c Column) bool {
	if slices.Contains(e.Key, c.Name) || strings.HasSuffix(c.Name, "_id") || c.Name == "stage" || c.Name == "currency" {
		return true
	}
	for _, r := range e.Refs {
		if r.Column == c.Name {
			return true
		}
	}
	return false
}

// Ref says that a column's value must be a key of another entity.
type Ref struct {
	Column string
	Entity string
	When   string // optional SQL condition on the staged row (e.g. scope <> 'rep')
}

// Entity is a table of the data contract.
type Entity struct {
	Name    string
	Key     []string
	Columns []Column
	Refs    []Ref
	// Checks are row-level rules across columns: SQL condition that marks a bad
	// row, the column to blame, and the reason.
	Checks []Check
}

// Check is a cross-column rule.
type Check struct {
	Bad    string // SQL boolean over typed columns (prefixed v_) that is true for a bad row
	Column string
	Reason string
}

// Column returns the named column.
func (e *Entity) Column(name string) (Column, bool) {
	for _, c := range e.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// ColumnNames lists the entity's columns in table order.
func (e *Entity) ColumnNames() []string {
	names := make([]string, len(e.Columns))
	for i, c := range e.Columns {
		names[i] = c.Name
	}
	return names
}

var currency = Column{Name: "currency", Kind: Text}

func col(name string, kind Kind) Column { return Column{Name: name, Kind: kind} }
func req(name string, kind Kind) Column { return Column{Name: name, Kind: kind, Required: true} }
func enum(name string, required bool, values ...string) Column {
	return Column{Name: name, Kind: Text, Required: required, Enum: values}
}

// Entities lists the data contract in load order: every entity comes after the
// entities it references, so references are checked against rows loaded earlier
// in the same transaction.
var Entities = []*Entity{
	{Name: "stages", Key: []string{"stage"}, Columns: []Column{
		req("stage", Text), req("position", Integer),
		{Name: "default_probability", Kind: Decimal, SQLType: "DECIMAL(5,2)", Percent: true},
		req("is_closed", Boolean)}},
	{Name: "fx_rates", Key: []string{"currency", "on_date"}, Columns: []Column{
		req("currency", Text), {Name: "on_date", Kind: Date, Required: true, Aliases: []string{"on", "date", "rate_date"}},
		{Name: "rate_to_base", Kind: Decimal, SQLType: "DECIMAL(18,8)", Required: true}},
		Checks: []Check{{Bad: "v_rate_to_base <= 0", Column: "rate_to_base", Reason: "rate must be greater than 0"}}},
	{Name: "org_units", Key: []string{"org_unit_id"}, Columns: []Column{
		req("org_unit_id", Text), col("parent_id", Text), req("name", Text),
		enum("level", true, "company", "region", "branch", "department")},
		Refs: []Ref{{Column: "parent_id", Entity: "org_units"}}},
	{Name: "reps", Key: []string{"rep_id"}, Columns: []Column{
		req("rep_id", Text), req("name", Text), req("org_unit_id", Text), col("manager_rep_id", Text),
		col("hired_on", Date), col("left_on", Date)},
		Refs:   []Ref{{Column: "org_unit_id", Entity: "org_units"}, {Column: "manager_rep_id", Entity: "reps"}},
		Checks: []Check{{Bad: "v_left_on < v_hired_on", Column: "left_on", Reason: "left_on is before hired_on"}}},
	{Name: "products", Key: []string{"product_id"}, Columns: []Column{
		req("product_id", Text), req("name", Text), col("product_line", Text),
		col("list_price", Money), col("unit_cost", Money)}},
	{Name: "partners", Key: []string{"partner_id"}, Columns: []Column{
		req("partner_id", Text), req("name", Text), enum("kind", true, "agent", "distributor", "reseller"),
		col("org_unit_id", Text)},
		Refs: []Ref{{Column: "org_unit_id", Entity: "org_units"}}},
	{Name: "campaigns", Key: []string{"campaign_id"}, Columns: []Column{
		req("campaign_id", Text), req("name", Text), col("channel", Text),
		col("started_on", Date), col("ended_on", Date), col("cost", Money)},
		Checks: []Check{{Bad: "v_ended_on < v_started_on", Column: "ended_on", Reason: "ended_on is before started_on"}}},
	{Name: "customers", Key: []string{"customer_id"}, Columns: []Column{
		req("customer_id", Text), req("name", Text), col("industry", Text),
		enum("size_band", false, "micro", "small", "medium", "large", "enterprise"),
		col("org_unit_id", Text), col("city", Text), col("created_at", Timestamp), col("owner_rep_id", Text),
		col("source", Text), enum("lifecycle_stage", false, "target", "potential", "opportunity", "transaction", "service")},
		Refs: []Ref{{Column: "org_unit_id", Entity: "org_units"}, {Column: "owner_rep_id", Entity: "reps"}}},
	{Name: "opportunities", Key: []string{"opportunity_id"}, Columns: []Column{
		req("opportunity_id", Text), req("customer_id", Text), col("owner_rep_id", Text), col("partner_id", Text),
		col("product_id", Text), col("amount", Money), currency, col("stage", Text),
		{Name: "probability", Kind: Decimal, SQLType: "DECIMAL(5,2)", Percent: true},
		col("source", Text), col("campaign_id", Text), req("created_at", Timestamp),
		col("expected_close_on", Date), col("closed_on", Date),
		enum("status", true, "open", "won", "lost"), col("close_reason", Text), col("competitor", Text),
		col("updated_at", Timestamp)},
		Refs: []Ref{{Column: "customer_id", Entity: "customers"}, {Column: "owner_rep_id", Entity: "reps"},
			{Column: "partner_id", Entity: "partners"}, {Column: "product_id", Entity: "products"},
			{Column: "campaign_id", Entity: "campaigns"}, {Column: "stage", Entity: "stages"}},
		Checks: []Check{
			{Bad: "v_status IN ('won','lost') AND v_closed_on IS NULL", Column: "closed_on", Reason: "a won or lost deal needs closed_on"},
			{Bad: "v_closed_on < CAST(v_created_at AS DATE)", Column: "closed_on", Reason: "closed_on is before created_at"},
		}},
	{Name: "opportunity_stages", Key: []string{"opportunity_id", "stage", "entered_at"}, Columns: []Column{
		req("opportunity_id", Text), req("stage", Text), req("entered_at", Timestamp)},
		Refs: []Ref{{Column: "opportunity_id", Entity: "opportunities"}, {Column: "stage", Entity: "stages"}}},
	{Name: "contracts", Key: []string{"contract_id"}, Columns: []Column{
		req("contract_id", Text), col("opportunity_id", Text), req("customer_id", Text), col("owner_rep_id", Text),
		req("signed_on", Date), col("start_on", Date), col("end_on", Date), req("amount", Money), currency,
		enum("status", false, "active", "completed", "terminated", "cancelled")},
		Refs: []Ref{{Column: "opportunity_id", Entity: "opportunities"}, {Column: "customer_id", Entity: "customers"},
			{Column: "owner_rep_id", Entity: "reps"}},
		Checks: []Check{{Bad: "v_end_on < v_start_on", Column: "end_on", Reason: "end_on is before start_on"}}},
	{Name: "contract_lines", Key: []string{"contract_id", "line_no"}, Columns: []Column{
		req("contract_id", Text), req("line_no", Integer), req("product_id", Text),
		{Name: "quantity", Kind: Decimal, SQLType: "DECIMAL(18,3)", Required: true}, req("unit_price", Money)},
		Refs: []Ref{{Column: "contract_id", Entity: "contracts"}, {Column: "product_id", Entity: "products"}}},
	{Name: "payment_schedule", Key: []string{"contract_id", "due_on"}, Columns: []Column{
		req("contract_id", Text), req("due_on", Date), req("amount", Money)},
		Refs: []Ref{{Column: "contract_id", Entity: "contracts"}}},
	{Name: "payments", Key: []string{"payment_id"}, Columns: []Column{
		req("payment_id", Text), col("contract_id", Text), req("customer_id", Text), req("paid_on", Date),
		{Name: "amount", Kind: Money, Required: true, Negative: true}, currency, col("method", Text)},
		Refs: []Ref{{Column: "contract_id", Entity: "contracts"}, {Column: "customer_id", Entity: "customers"}}},
	{Name: "expenses", Key: []string{"expense_id"}, Columns: []Column{
		req("expense_id", Text), col("customer_id", Text), col("opportunity_id", Text), col("contract_id", Text),
		req("incurred_on", Date), {Name: "amount", Kind: Money, Required: true, Negative: true}, currency, col("category", Text)},
		Refs: []Ref{{Column: "customer_id", Entity: "customers"}, {Column: "opportunity_id", Entity: "opportunities"},
			{Column: "contract_id", Entity: "contracts"}}},
	{Name: "activities", Key: []string{"activity_id"}, Columns: []Column{
		req("activity_id", Text), col("customer_id", Text), col("opportunity_id", Text), col("rep_id", Text),
		enum("kind", true, "visit", "call", "meeting", "email", "event"), req("occurred_at", Timestamp), col("campaign_id", Text)},
		Refs: []Ref{{Column: "customer_id", Entity: "customers"}, {Column: "opportunity_id", Entity: "opportunities"},
			{Column: "rep_id", Entity: "reps"}, {Column: "campaign_id", Entity: "campaigns"}}},
	{Name: "targets", Key: []string{"scope", "scope_id", "period_start", "metric"}, Columns: []Column{
		enum("scope", true, "company", "region", "branch", "department", "rep"), req("scope_id", Text),
		req("period_start", Date), req("period_end", Date), enum("metric", true, "bookings", "collections"), req("amount", Money)},
		Refs: []Ref{{Column: "scope_id", Entity: "reps", When: "v_scope = 'rep'"},
			{Column: "scope_id", Entity: "org_units", When: "v_scope <> 'rep'"}},
		Checks: []Check{{Bad: "v_period_end < v_period_start", Column: "period_end", Reason: "period_end is before period_start"}}},
}

// EntityByName finds an entity of the data contract.
func EntityByName(name string) (*Entity, error) {
	for _, e := range Entities {
		if e.Name == name {
			return e, nil
		}
	}
	names := make([]string, len(Entities))
	for i, e := range Entities {
		names[i] = e.Name
	}
	slices.Sort(names)
	return nil, fmt.Errorf("unknown entity %q: the data contract has %s", name, strings.Join(names, ", "))
}

func entityOrder(name string) int {
	for i, e := range Entities {
		if e.Name == name {
			return i
		}
	}
	return len(Entities)
}
