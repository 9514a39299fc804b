// Package etl loads source files and databases into the warehouse: it
// validates every value against the data contract (warehouse.Contract),
// quarantines bad rows with file, line, column and reason, and applies a
// whole load as one transaction (staging → deduplicate → upsert by key).
//
// Layout: each input format is a package of its own behind one interface
// (etl/source: a Source opens a Table of text rows): etl/csv, etl/xlsx,
// etl/parquet, etl/ndjson, etl/postgres. formats.go detects a file's format
// and hands it to its package; everything after that (header, column
// mapping, value parsers in values.go, the Go stager in stage.go, SQL
// validation in validate.go, upsert in load.go) is the same for every
// format. etl/synth generates the demo company's files.
package etl

import (
	"fmt"
	"slices"
	"strings"

	"github.com/triscope/triscope/warehouse"
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
	// OK, when set, is the same check written null-safe (true exactly when
	// Bad is not true) with its cheap parts first (see rule).
	OK string
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

// Entities lists the data contract in load order (warehouse.Contract: every
// entity comes after the entities it references, so references are checked
// against rows loaded earlier in the same transaction), with the loader's own
// rules added: how each column's text is parsed, the cross-column checks
// (below), header aliases and value words (aliases.go).
var Entities = fromContract(warehouse.Contract)

// checks are the loader's cross-column rules per entity.
var checks = map[string][]Check{
	"fx_rates":  {{Bad: "v_rate_to_base <= 0", Column: "rate_to_base", Reason: "rate must be greater than 0"}},
	"reps":      {{Bad: "v_left_on < v_hired_on", Column: "left_on", Reason: "left_on is before hired_on"}},
	"campaigns": {{Bad: "v_ended_on < v_started_on", Column: "ended_on", Reason: "ended_on is before started_on"}},
	"opportunities": {
		{Bad: "v_status IN ('won','lost') AND v_closed_on IS NULL", Column: "closed_on", Reason: "a won or lost deal needs closed_on"},
		{Bad: "v_closed_on < CAST(v_created_at AS DATE)", Column: "closed_on", Reason: "closed_on is before created_at",
			// created_at's date in the session's zone is at most a day after
			// its UTC date: only deals closed within two days of their UTC
			// creation date need the time zone conversion.
			OK: "v_closed_on IS NULL OR v_created_at IS NULL OR v_closed_on - DATE '1970-01-01' >= epoch_us(v_created_at) // 86400000000 + 2 OR v_closed_on >= CAST(v_created_at AS DATE)"},
	},
	"contracts": {{Bad: "v_end_on < v_start_on", Column: "end_on", Reason: "end_on is before start_on"}},
	"targets":   {{Bad: "v_period_end < v_period_start", Column: "period_end", Reason: "period_end is before period_start"}},
}

// kindOf is how the loader parses a column of a contract type.
func kindOf(c warehouse.ContractColumn) (Kind, string) {
	switch c.Type {
	case warehouse.TypeText:
		return Text, ""
	case warehouse.TypeDate:
		return Date, ""
	case warehouse.TypeTimestamp:
		return Timestamp, ""
	case warehouse.TypeMoney:
		return Money, ""
	case warehouse.TypeInteger:
		return Integer, ""
	case warehouse.TypeBoolean:
		return Boolean, ""
	}
	return Decimal, c.Type // DECIMAL(p,s) other than money: checked by the warehouse's contract check
}

func fromContract(contract []*warehouse.ContractEntity) []*Entity {
	var out []*Entity
	for _, ce := range contract {
		e := &Entity{Name: ce.Name, Key: slices.Clone(ce.Key), Checks: checks[ce.Name]}
		for _, cc := range ce.Columns {
			kind, sqlType := kindOf(cc)
			e.Columns = append(e.Columns, Column{Name: cc.Name, Kind: kind, SQLType: sqlType, Required: cc.Required,
				Enum: slices.Clone(cc.Enum), Negative: cc.Negative, Percent: cc.Percent})
		}
		for _, r := range ce.Refs {
			ref := Ref{Column: r.Column, Entity: r.Entity}
			if w := r.When; w != nil {
				op := "IN"
				if w.Not {
					op = "NOT IN"
				}
				ref.When = fmt.Sprintf("v_%s %s (%s)", w.Column, op, sqlList(w.Values))
			}
			e.Refs = append(e.Refs, ref)
		}
		out = append(out, e)
	}
	return out
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
