package adhoc

import (
	"encoding/json"
	"strings"
)

// Kind is how a column of a result is written by the exports: one of
// render's kinds (text, number, integer, date, time, bool), from DuckDB's
// type name.
func (c Column) Kind() string {
	t := strings.ToUpper(c.Type)
	switch {
	case strings.HasSuffix(t, "[]") || strings.HasPrefix(t, "STRUCT") || strings.HasPrefix(t, "MAP") || strings.HasPrefix(t, "UNION"):
		return "text"
	case t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT" || t == "HUGEINT" || t == "UTINYINT" ||
		t == "USMALLINT" || t == "UINTEGER" || t == "UBIGINT" || t == "UHUGEINT":
		return "integer"
	case t == "FLOAT" || t == "DOUBLE" || t == "REAL" || strings.HasPrefix(t, "DECIMAL") || strings.HasPrefix(t, "NUMERIC"):
		return "number"
	case t == "DATE":
		return "date"
	case t == "TIMESTAMPTZ" || t == "TIMESTAMP WITH TIME ZONE":
		return "time"
	case t == "BOOLEAN":
		return "bool"
	}
	return "text"
}

// ExportValue is a result value as the writers take it: exact numbers as
// their decimal text, lists and structs as JSON text, the rest as is.
func ExportValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		return string(x)
	case []any, map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		return string(b)
	}
	return v
}
