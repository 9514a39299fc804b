package render

import "github.com/triscope/triscope/query"

// FromResult is a table of a query result (chart data, drill-through rows,
// an ad hoc query), each column labelled in lang as the UI labels it: the one
// adapter from the engine's results to every writer.
func FromResult(name, lang string, res *query.Result) *Table {
	t := &Table{Name: name, Rows: SliceRows(res.Rows)}
	for _, c := range res.Columns {
		t.Columns = append(t.Columns, Column{Name: c.Name, Label: query.ColumnLabel(lang, c.Name), Kind: Kind(c.Type)})
	}
	return t
}
