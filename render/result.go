package render

import (
	"io"

	"github.com/triscope/triscope/query"
)

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

// ForPeople is FromResult for a person's export (CSV, XLSX, a report): the
// code values (statuses, stages, channels, industries…) in lang as the UI
// shows them, and after the result's columns, one column of the codes
// themselves ("<label> (code)") per column that held codes, for formulas and
// machines (the result's columns keep their positions).
func ForPeople(name, lang string, res *query.Result) *Table {
	codes := make([]bool, len(res.Columns))
	for i, c := range res.Columns {
		if c.Type != "text" {
			continue
		}
		for _, row := range res.Rows {
			if _, ok := query.CodeLabel(lang, c.Name, row[i]); ok {
				codes[i] = true
				break
			}
		}
	}
	n := 0
	return PeopleTable(name, lang, res.Columns, codes, func() ([]any, error) {
		if n >= len(res.Rows) {
			return nil, io.EOF
		}
		n++
		return res.Rows[n-1], nil
	})
}

// PeopleTable is the table ForPeople makes, over rows from next (a result
// or a stream): codes says which columns hold codes, shown in lang and
// repeated as they are in a column after the others.
func PeopleTable(name, lang string, cols []query.Column, codes []bool, next func() ([]any, error)) *Table {
	t := &Table{Name: name}
	var src []int // source column of each table column; negative: the codes of column -1-i
	for i, c := range cols {
		t.Columns = append(t.Columns, Column{Name: c.Name, Label: query.ColumnLabel(lang, c.Name), Kind: Kind(c.Type)})
		src = append(src, i)
	}
	for i, c := range cols {
		if codes[i] {
			t.Columns = append(t.Columns, Column{Name: c.Name + "_code", Label: query.ColumnLabel(lang, c.Name) + " (code)", Kind: Text})
			src = append(src, -1-i)
		}
	}
	row := make([]any, len(src))
	t.Rows = RowsFunc(func() ([]any, error) {
		r, err := next()
		if err != nil {
			return nil, err
		}
		for j, k := range src {
			switch {
			case k < 0:
				row[j] = r[-1-k]
			case codes[k]:
				if l, ok := query.CodeLabel(lang, cols[k].Name, r[k]); ok {
					row[j] = l
				} else {
					row[j] = r[k]
				}
			default:
				row[j] = r[k]
			}
		}
		return row, nil
	}).Rows()
	return t
}
