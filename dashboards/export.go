package dashboards

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/triscope/triscope/query"
)

// writeCSV writes rows as RFC 4180 CSV in UTF-8 with a byte-order mark (so
// that Excel opens Chinese text correctly). Amounts are written exactly as
// stored, in their own columns' currency (amount_base in the base currency).
func writeCSV(w io.Writer, res *query.Result, labels []string) error {
	if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(labels); err != nil {
		return err
	}
	rec := make([]string, len(res.Columns))
	for _, row := range res.Rows {
		for i, v := range row {
			rec[i] = csvValue(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	}
	return fmt.Sprint(v)
}

// writeXLSX writes rows as one worksheet with a bold header, dates as dates
// and amounts with thousands separators.
func writeXLSX(w io.Writer, res *query.Result, labels []string, sheetTitle string) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "Sheet1"
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#E8EDF3"}}})
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	timeStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 22})
	moneyFmt := "#,##0.00"
	moneyStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &moneyFmt})
	for i := range res.Columns {
		width := 14.0
		if res.Columns[i].Type == "text" {
			width = 24
		}
		sw.SetColWidth(i+1, i+1, width)
	}
	header := make([]any, len(labels))
	for i, l := range labels {
		header[i] = excelize.Cell{StyleID: bold, Value: l}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	row := make([]any, len(res.Columns))
	for r, vals := range res.Rows {
		for i, v := range vals {
			switch res.Columns[i].Type {
			case "date":
				if s, ok := v.(string); ok {
					if d, err := time.Parse("2006-01-02", s); err == nil {
						row[i] = excelize.Cell{StyleID: dateStyle, Value: d}
						continue
					}
				}
			case "time":
				if t, ok := v.(time.Time); ok {
					row[i] = excelize.Cell{StyleID: timeStyle, Value: t}
					continue
				}
			case "money":
				if x, ok := v.(float64); ok {
					row[i] = excelize.Cell{StyleID: moneyStyle, Value: x}
					continue
				}
			}
			row[i] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, r+2)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if sheetTitle != "" {
		name := []rune(sheetTitle)
		if len(name) > 31 {
			name = name[:31]
		}
		clean := make([]rune, 0, len(name))
		for _, r := range name {
			switch r {
			case ':', '\\', '/', '?', '*', '[', ']':
				r = ' '
			}
			clean = append(clean, r)
		}
		f.SetSheetName(sheet, string(clean))
	}
	_, err = f.WriteTo(w)
	return err
}
