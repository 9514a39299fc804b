package etl

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// validation generates the SQL that types the rows left to it (stg_rest_E:
// the rows that were not applied directly, see direct.go), quarantines bad
// rows into stg_rejects and leaves the good, deduplicated rows in stg_ok.
// The SQL is generated from the entity's rules so that every entity is checked
// the same way; each statement is plain SQL over the whole file.
type validation struct {
	ent      *Entity
	base     string
	names    map[int]string // source index → name, for duplicate messages
	refs     []refCheck     // the references checked (planRefs)
	warnings []string
}

// amountDate is the date on which an entity's amounts are converted to the base currency.
var amountDate = map[string]string{
	"opportunities": "CAST(v_created_at AS DATE)",
	"contracts":     "v_signed_on",
	"payments":      "v_paid_on",
	"expenses":      "v_incurred_on",
}

// typedExpr types a staged text column. canonical: the text is what the Go
// parsers (or the SQL that mirrors them, fastcsv.go) return: trimmed, NULL
// when empty, enumerations in lower case and currencies in upper case; the
// rules can then skip the defensive trimming, which costs time on every row.
func typedExpr(c Column, canonical bool) string {
	raw := quoteIdent(c.Name)
	if canonical {
		if c.Kind == Text {
			return raw
		}
		return fmt.Sprintf("TRY_CAST(%s AS %s)", raw, c.Kind.SQLType(c))
	}
	switch {
	case c.Name == "currency":
		return fmt.Sprintf("upper(NULLIF(trim(%s), ''))", raw)
	case len(c.Enum) > 0:
		return fmt.Sprintf("lower(NULLIF(trim(%s), ''))", raw)
	case c.Kind == Text:
		return fmt.Sprintf("NULLIF(trim(%s), '')", raw)
	}
	return fmt.Sprintf("TRY_CAST(NULLIF(trim(%s), '') AS %s)", raw, c.Kind.SQLType(c))
}

// rule is a value check: bad is a SQL condition that is true for a bad value
// (NULL counts as not bad), ok the same check written null-safe and cheap
// first (true exactly when bad is not true): a conjunction of oks lets
// DuckDB skip the costly parts (a time zone conversion) for most rows.
type rule struct{ column, bad, ok, reason string }

// valueRules are the value checks of every row, over the raw (quoted name)
// and typed (v_ name) columns. canonical as for typedExpr.
func valueRules(ent *Entity, canonical bool) []rule {
	var rs []rule
	for _, c := range ent.Columns {
		raw, typed := quoteIdent(c.Name), "v_"+c.Name
		present := fmt.Sprintf("NULLIF(trim(%s), '') IS NOT NULL", raw)
		if canonical {
			present = raw + " IS NOT NULL"
		}
		null := typed + " IS NULL OR "
		if c.Required {
			rs = append(rs, rule{c.Name, fmt.Sprintf("NOT (%s)", present), present, "required value is missing"})
		}
		if c.Kind != Text {
			rs = append(rs, rule{c.Name, fmt.Sprintf("%s AND %s IS NULL", present, typed), fmt.Sprintf("NOT (%s) OR %s IS NOT NULL", present, typed),
				"not " + c.Kind.describe()})
		}
		if len(c.Enum) > 0 {
			rs = append(rs, rule{c.Name, fmt.Sprintf("%s NOT IN (%s)", typed, sqlList(c.Enum)), fmt.Sprintf("%s%s IN (%s)", null, typed, sqlList(c.Enum)),
				"must be one of " + strings.Join(c.Enum, ", ")})
		}
		if c.Name == "currency" {
			rs = append(rs, rule{c.Name, fmt.Sprintf("NOT regexp_full_match(%s, '[A-Z]{3}')", typed), fmt.Sprintf("%sregexp_full_match(%s, '[A-Z]{3}')", null, typed),
				"currency must be a 3-letter ISO code such as CNY or USD"})
		}
		if (c.Kind == Money || c.Kind == Decimal) && !c.Negative && !c.Percent {
			rs = append(rs, rule{c.Name, typed + " < 0", null + typed + " >= 0",
				"negative values are not allowed here (only payments and expenses may be negative: refunds and credit notes)"})
		}
		if c.Kind == Money {
			rs = append(rs, rule{c.Name, fmt.Sprintf("abs(%s) > 1000000000000", typed), fmt.Sprintf("%sabs(%s) <= 1000000000000", null, typed),
				"amount over 1,000,000,000,000 is not plausible (a unit or separator mix-up?)"})
		}
		if c.Percent {
			rs = append(rs, rule{c.Name, fmt.Sprintf("%s < 0 OR %s > 100", typed, typed), fmt.Sprintf("%s(%s >= 0 AND %s <= 100)", null, typed, typed),
				"must be a percentage between 0 and 100"})
		}
		switch c.Kind {
		case Date:
			rs = append(rs, rule{c.Name, typed + " < DATE '1990-01-01'", null + typed + " >= DATE '1990-01-01'", "date before 1990 is not plausible"})
			rs = append(rs, rule{c.Name, typed + " > current_date + INTERVAL 30 YEAR", null + typed + " <= current_date + INTERVAL 30 YEAR",
				"date more than 30 years in the future is not plausible"})
		case Timestamp:
			// The date of a timestamp in the session's time zone, compared
			// as instants: a time zone conversion per row is the costliest
			// thing the loader would do.
			first, after := "TIMESTAMPTZ '1990-01-01 00:00:00'", "CAST(CAST(current_date + INTERVAL 30 YEAR AS DATE) + 1 AS TIMESTAMPTZ)"
			rs = append(rs, rule{c.Name, typed + " < " + first, null + typed + " >= " + first, "date before 1990 is not plausible"})
			rs = append(rs, rule{c.Name, typed + " >= " + after, null + typed + " < " + after, "date more than 30 years in the future is not plausible"})
		}
	}
	for _, ch := range ent.Checks {
		ok := ch.OK
		if ok == "" {
			ok = fmt.Sprintf("NOT coalesce(%s, false)", ch.Bad)
		}
		rs = append(rs, rule{ch.Column, ch.Bad, ok, ch.Reason})
	}
	return rs
}

// okConditions are the value rules as null-safe conditions, true for a good
// row: their conjunction is exactly that of NOT coalesce(bad, false) over
// valueRules. The rules of one column are folded into one condition that
// names the typed value once (v BETWEEN lo AND hi for the type, sign,
// plausibility and percentage rules): DuckDB pushes such conditions down
// into the projection that types the text, and would cast it again for every
// mention.
func okConditions(ent *Entity, canonical bool) []string {
	var oks []string
	for _, c := range ent.Columns {
		raw, typed := quoteIdent(c.Name), "v_"+c.Name
		present := fmt.Sprintf("NULLIF(trim(%s), '') IS NOT NULL", raw)
		if canonical {
			present = raw + " IS NOT NULL"
		}
		if c.Required {
			oks = append(oks, present)
		}
		switch {
		case len(c.Enum) > 0:
			oks = append(oks, fmt.Sprintf("(%s IS NULL OR %s IN (%s))", typed, typed, sqlList(c.Enum)))
		case c.Name == "currency":
			oks = append(oks, fmt.Sprintf("(%s IS NULL OR regexp_full_match(%s, '[A-Z]{3}'))", typed, typed))
		case c.Kind == Text:
		default:
			// The type rule (a present value types) with the range every
			// other rule of the column allows: NULL typed value → the value
			// must be absent; else it must lie in the range.
			var in string
			switch {
			case c.Kind == Money && c.Negative:
				in = typed + " BETWEEN -1000000000000 AND 1000000000000"
			case c.Kind == Money:
				in = typed + " BETWEEN 0 AND 1000000000000"
			case c.Percent:
				in = typed + " BETWEEN 0 AND 100"
			case c.Kind == Decimal && !c.Negative:
				in = typed + " >= 0"
			case c.Kind == Date:
				in = typed + " BETWEEN DATE '1990-01-01' AND current_date + INTERVAL 30 YEAR"
			case c.Kind == Timestamp:
				in = typed + " BETWEEN TIMESTAMPTZ '1990-01-01 00:00:00' AND CAST(CAST(current_date + INTERVAL 30 YEAR AS DATE) + 1 AS TIMESTAMPTZ) - INTERVAL 1 MICROSECOND"
			default:
				in = typed + " IS NOT NULL"
			}
			oks = append(oks, fmt.Sprintf("coalesce(%s, NOT (%s))", in, present))
		}
	}
	for _, ch := range ent.Checks {
		ok := ch.OK
		if ok == "" {
			ok = fmt.Sprintf("NOT coalesce(%s, false)", ch.Bad)
		}
		oks = append(oks, "("+ok+")")
	}
	return oks
}

// refCheck is a reference the rows of an entity are checked against.
type refCheck struct {
	Ref
	key  string // the target's key column
	self bool   // the entity references itself (reps.manager_rep_id)
}

// planRefs decides which references of ent are checked: against the
// warehouse, which already holds the entities loaded earlier in this
// transaction. A reference to an entity the warehouse holds no rows of is not
// checked, with a warning (a company may load payments without customers).
func planRefs(ctx context.Context, conn *sql.Conn, ent *Entity) ([]refCheck, []string) {
	var out []refCheck
	var warnings []string
	for _, ref := range ent.Refs {
		target, _ := EntityByName(ref.Entity)
		self := ref.Entity == ent.Name
		if !self && tableEmpty(ctx, conn, ref.Entity) {
			warnings = append(warnings, fmt.Sprintf("%s.%s was not checked: the warehouse holds no %s yet", ent.Name, ref.Column, ref.Entity))
			continue
		}
		out = append(out, refCheck{Ref: ref, key: target.Key[0], self: self})
	}
	return out, warnings
}

// run types the raw staging table, quarantines bad rows into stg_rejects and
// leaves the good, deduplicated rows in the view stg_ok. Each step is one
// statement over the whole file; steps that find nothing to do are skipped.
func (v *validation) run(ctx context.Context, conn *sql.Conn, exec func(string) error) error {
	ent := v.ent
	var typed, typedNames, checks, allOK []string
	for _, c := range ent.Columns {
		typed = append(typed, fmt.Sprintf("%s AS v_%s", typedExpr(c, false), c.Name))
		typedNames = append(typedNames, "v_"+c.Name)
	}
	for _, r := range valueRules(ent, false) {
		checks = append(checks, fmt.Sprintf("CASE WHEN coalesce((%s), false) THEN {'c': %s, 'v': CAST(%s AS VARCHAR), 'r': %s} END",
			r.bad, quoteLiteral(r.column), quoteIdent(r.column), quoteLiteral(r.reason)))
	}
	allOK = okConditions(ent, false)
	// Typing and the value rules in one pass that keeps, per row, only
	// whether some rule fails (_bad); the reasons are worked out in a second
	// pass over the bad rows alone, which are few. Rows the Go parsers already
	// refused (_pre) are typed only for their keys: their problems are in
	// stg_rejects.
	if len(allOK) == 0 {
		allOK = []string{"true"}
	}
	if err := exec(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE stg_typed AS
		SELECT _file, _line, %s, (NOT _pre AND NOT (%s)) AS _bad
		FROM (SELECT *, %s FROM %s)`, strings.Join(typedNames, ", "), strings.Join(allOK, " AND "), strings.Join(typed, ", "), restTable(ent))); err != nil {
		return err
	}
	var bad int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM stg_typed WHERE _bad").Scan(&bad); err != nil {
		return err
	}
	if bad > 0 {
		if err := exec(fmt.Sprintf(`INSERT INTO stg_rejects SELECT _file, _line, e.c, e.v, e.r, false
			FROM (SELECT _file, _line, unnest(list_filter([%s], lambda e: e IS NOT NULL)) AS e
				FROM (SELECT *, %s FROM %s WHERE (_file, _line) IN (SELECT _file, _line FROM stg_typed WHERE _bad)))`,
			strings.Join(checks, ",\n"), strings.Join(typed, ", "), restTable(ent))); err != nil {
			return err
		}
	}

	// Amounts in another currency need an exchange rate on or before their date.
	if dateExpr, ok := amountDate[ent.Name]; ok {
		if err := exec(fmt.Sprintf(`INSERT INTO stg_rejects
			SELECT _file, _line, 'currency', v_currency,
				'no exchange rate for ' || v_currency || ' on or before ' || CAST(%s AS VARCHAR) || ': load fx_rates for this currency first', false
			FROM stg_typed s LEFT JOIN (SELECT currency, min(on_date) AS first_rate FROM fx_rates GROUP BY currency) fx ON fx.currency = s.v_currency
			WHERE regexp_full_match(s.v_currency, '[A-Z]{3}') AND s.v_currency <> %s AND (fx.first_rate IS NULL OR fx.first_rate > %s)`,
			dateExpr, quoteLiteral(v.base), dateExpr)); err != nil {
			return err
		}
	}

	// References: against the warehouse, which already holds the entities
	// loaded earlier in this transaction (and the rows of this entity applied
	// directly), and for self-references also the rows staged here.
	for _, ref := range v.refs {
		cond := ""
		if ref.When != "" {
			cond = " AND " + ref.When
		}
		inFile := ""
		if ref.self {
			inFile = fmt.Sprintf(" AND NOT EXISTS (SELECT 1 FROM stg_typed f WHERE f.v_%s = s.v_%s)", ref.key, ref.Column)
		}
		if err := exec(fmt.Sprintf(`INSERT INTO stg_rejects
			SELECT _file, _line, %s, v_%s, 'unknown %s: no %s with %s ' || v_%s, false
			FROM stg_typed s
			WHERE v_%s IS NOT NULL%s AND NOT EXISTS (SELECT 1 FROM %s t WHERE t.%s = s.v_%s)%s`,
			quoteLiteral(ref.Column), ref.Column, singular(ref.Entity), singular(ref.Entity), ref.key, ref.Column,
			ref.Column, cond, quoteIdent(ref.Entity), quoteIdent(ref.key), ref.Column, inFile)); err != nil {
			return err
		}
	}

	var keys, outCols []string
	for _, k := range ent.Key {
		keys = append(keys, "v_"+k)
	}
	for _, c := range ent.Columns {
		outCols = append(outCols, fmt.Sprintf("v_%s AS %s", c.Name, quoteIdent(c.Name)))
	}
	good := "FROM stg_typed s WHERE NOT EXISTS (SELECT 1 FROM stg_rejects r WHERE r._file = s._file AND r._line = s._line)"
	var dupKeys int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 %s GROUP BY %s HAVING count(*) > 1)",
		good, strings.Join(keys, ", "))).Scan(&dupKeys); err != nil {
		return err
	}
	if dupKeys == 0 {
		return exec(fmt.Sprintf("CREATE OR REPLACE TEMP VIEW stg_ok AS SELECT _file, %s %s", strings.Join(outCols, ", "), good))
	}
	// Deduplicate the good rows: the latest row of a key wins (later file, then
	// later updated_at when the entity has one, then later line).
	order := "_file DESC, _line DESC"
	if _, ok := ent.Column("updated_at"); ok {
		order = "_file DESC, v_updated_at DESC NULLS LAST, _line DESC"
	}
	fileName := "''"
	if len(v.names) > 0 {
		var whens []string
		for idx, name := range v.names {
			whens = append(whens, fmt.Sprintf("WHEN %d THEN %s", idx, quoteLiteral(name)))
		}
		slices.Sort(whens)
		fileName = "CASE _winner_file " + strings.Join(whens, " ") + " END"
	}
	var keyText []string
	for _, k := range ent.Key {
		keyText = append(keyText, fmt.Sprintf("CAST(v_%s AS VARCHAR)", k))
	}
	for _, q := range []string{
		fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE stg_ranked AS
			SELECT *, row_number() OVER (PARTITION BY %s ORDER BY %s) AS _rank,
				first_value(_line) OVER (PARTITION BY %s ORDER BY %s) AS _winner,
				first_value(_file) OVER (PARTITION BY %s ORDER BY %s) AS _winner_file
			%s`, strings.Join(keys, ", "), order, strings.Join(keys, ", "), order, strings.Join(keys, ", "), order, good),
		fmt.Sprintf(`INSERT INTO stg_rejects SELECT _file, _line, %s, concat_ws(' | ', %s),
				'duplicate key: superseded by line ' || _winner || CASE WHEN _winner_file <> _file THEN ' of ' || %s ELSE '' END || ' (the latest row wins)', true
			FROM stg_ranked WHERE _rank > 1`, quoteLiteral(strings.Join(ent.Key, ", ")), strings.Join(keyText, ", "), fileName),
		fmt.Sprintf(`CREATE OR REPLACE TEMP VIEW stg_ok AS SELECT _file, %s FROM stg_ranked WHERE _rank = 1`, strings.Join(outCols, ", ")),
	} {
		if err := exec(q); err != nil {
			return err
		}
	}
	return nil
}

func tableEmpty(ctx context.Context, conn *sql.Conn, table string) bool {
	var n int
	conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s LIMIT 1)", quoteIdent(table))).Scan(&n)
	return n == 0
}

func singular(entity string) string {
	switch entity {
	case "opportunities":
		return "opportunity"
	case "activities":
		return "activity"
	case "stages":
		return "stage"
	}
	return strings.TrimSuffix(entity, "s")
}

func sqlList(vals []string) string {
	q := slices.Clone(vals)
	for i, s := range q {
		q[i] = quoteLiteral(s)
	}
	return strings.Join(q, ", ")
}
