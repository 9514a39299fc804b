package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// ParamNames lists the $name parameters of a SQL text in order of first use,
// skipping string literals, quoted identifiers and comments.
func ParamNames(q string) []string {
	var names []string
	seen := map[string]bool{}
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return names
			}
			i += end + 3
		case c == '$':
			j := i + 1
			for j < len(q) && (q[j] == '_' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z' || j > i+1 && q[j] >= '0' && q[j] <= '9') {
				j++
			}
			if j > i+1 {
				name := q[i+1 : j]
				if !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
			i = j - 1
		}
	}
	return names
}

// Bound is one parameter with its value, as shown behind the "SQL" button.
type Bound struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// bind picks the parameters a SQL text uses from p. Every $name must have a
// value (nil = NULL): the DuckDB driver binds a missing name by position,
// which would silently put the wrong value in.
func bind(q string, p map[string]any) ([]Bound, []any, error) {
	var bound []Bound
	var args []any
	for _, name := range ParamNames(q) {
		v, ok := p[name]
		if !ok {
			return nil, nil, fmt.Errorf("SQL parameter $%s has no value", name)
		}
		bound = append(bound, Bound{name, v})
		args = append(args, sql.Named(name, v))
	}
	return bound, args, nil
}

// Column describes a result column.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"` // number, money, percent, date, time, text, bool
}

// Result is the rows of a query, with values normalised to nil, bool, int64,
// float64, string (dates as YYYY-MM-DD) and time.Time (instants).
type Result struct {
	Columns []Column
	Rows    [][]any
	index   map[string]int
}

// Col returns a column's position, or -1.
func (r *Result) Col(name string) int {
	if r.index == nil {
		r.indexColumns()
	}
	if i, ok := r.index[name]; ok {
		return i
	}
	return -1
}

// indexColumns maps the column names to their positions. A result shared
// between requests (Service.result) is indexed before it is shared: Col
// filling the map lazily in two builds at once made one of them miss columns.
func (r *Result) indexColumns() {
	index := make(map[string]int, len(r.Columns))
	for i, c := range r.Columns {
		index[c.Name] = i
	}
	r.index = index
}

func (r *Result) val(row int, col string) any {
	i := r.Col(col)
	if i < 0 {
		panic(fmt.Sprintf("result has no column %q", col))
	}
	return r.Rows[row][i]
}

// Str returns a value as text ("" for NULL).
func (r *Result) Str(row int, col string) string {
	switch v := r.val(row, col).(type) {
	case nil:
		return ""
	case string:
		return v
	case time.Time:
		return v.Format(time.RFC3339)
	default:
		return fmt.Sprint(v)
	}
}

// Float returns a number (0 for NULL).
func (r *Result) Float(row int, col string) float64 {
	f, _ := r.NullFloat(row, col)
	return f
}

// NullFloat returns a number and whether it is not NULL.
func (r *Result) NullFloat(row int, col string) (float64, bool) {
	switch v := r.val(row, col).(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// Bool returns a truth value (false for NULL).
func (r *Result) Bool(row int, col string) bool { return r.Float(row, col) != 0 }

// Int returns an integer (0 for NULL).
func (r *Result) Int(row int, col string) int64 { return int64(math.Round(r.Float(row, col))) }

// Date returns a date column as a time (zero for NULL).
func (r *Result) Date(row int, col string) time.Time {
	switch v := r.val(row, col).(type) {
	case string:
		t, _ := time.Parse("2006-01-02", v)
		return t
	case time.Time:
		return v
	}
	return time.Time{}
}

// Querier runs queries (the warehouse read pool).
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// run executes a query and reads every row (DuckDB materialises results
// anyway: bound the size with LIMIT in the SQL).
func run(ctx context.Context, db Querier, q string, args []any, loc *time.Location) (*Result, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	dbTypes := make([]string, len(types))
	for i, t := range types {
		dbTypes[i] = strings.ToUpper(t.DatabaseTypeName())
		res.Columns = append(res.Columns, Column{Name: t.Name(), Type: columnType(t.Name(), dbTypes[i])})
	}
	res.indexColumns()
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			vals[i] = normalize(v, dbTypes[i], loc)
		}
		res.Rows = append(res.Rows, vals)
	}
	return res, rows.Err()
}

func columnType(name, db string) string {
	n := strings.ToLower(name)
	switch {
	case db == "DATE":
		return "date"
	case strings.HasPrefix(db, "TIMESTAMP"):
		return "time"
	case db == "BOOLEAN":
		return "bool"
	case db == "VARCHAR" || strings.HasPrefix(db, "ENUM"):
		return "text"
	case strings.Contains(n, "amount") || strings.HasSuffix(n, "_base") || strings.Contains(n, "target") ||
		strings.Contains(n, "bookings") || strings.Contains(n, "collections") || strings.Contains(n, "pipeline") ||
		strings.Contains(n, "value") && !strings.Contains(n, "count"):
		return "money"
	case strings.Contains(n, "rate") || strings.Contains(n, "share") || strings.Contains(n, "attainment") || strings.Contains(n, "coverage"):
		return "percent"
	}
	return "number"
}

func normalize(v any, db string, loc *time.Location) any {
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
		return x
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case duckdb.Decimal:
		return x.Float64()
	case time.Time:
		if db == "DATE" {
			return x.UTC().Format("2006-01-02")
		}
		if loc != nil {
			return x.In(loc)
		}
		return x
	case []byte:
		return string(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(normalize(e, "", loc))
		}
		return strings.Join(parts, ", ")
	default:
		return fmt.Sprint(x)
	}
}

// sortedKey renders parameters in a stable order (cache keys).
func sortedKey(b []Bound) string {
	cp := append([]Bound(nil), b...)
	sort.Slice(cp, func(i, j int) bool { return cp[i].Name < cp[j].Name })
	var s strings.Builder
	for _, x := range cp {
		// %q: a list ["a b"] must not read as ["a", "b"].
		fmt.Fprintf(&s, "%s=%q;", x.Name, x.Value)
	}
	return s.String()
}
