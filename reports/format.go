package reports

import (
	"math"
	"strconv"
	"strings"

	"github.com/triscope/triscope/query/i18n"
	"github.com/triscope/triscope/render"
)

// The numbers of mails, robot messages and covers are written the way the
// dashboards show them (dashboards/assets/app.js, fmt): compact amounts with
// 万 / 亿 in Chinese and K / M / B in English, percents with one decimal.

var symbols = map[string]string{"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func groupInt(v float64) string {
	s := strconv.FormatFloat(math.Round(math.Abs(v)), 'f', 0, 64)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if v < 0 && math.Round(math.Abs(v)) != 0 {
		return "-" + b.String()
	}
	return b.String()
}

func compact(lang string, v float64) string {
	a := math.Abs(v)
	var s string
	if lang == i18n.ZH {
		switch {
		case a >= 1e8:
			s = trimZeros(strconv.FormatFloat(a/1e8, 'f', 2, 64)) + "亿"
		case a >= 1e4:
			s = trimZeros(strconv.FormatFloat(a/1e4, 'f', 1, 64)) + "万"
		default:
			s = groupInt(a)
		}
	} else {
		switch {
		case a >= 1e9:
			s = trimZeros(strconv.FormatFloat(a/1e9, 'f', 2, 64)) + "B"
		case a >= 1e6:
			s = trimZeros(strconv.FormatFloat(a/1e6, 'f', 2, 64)) + "M"
		case a >= 1e4:
			s = trimZeros(strconv.FormatFloat(a/1e3, 'f', 1, 64)) + "K"
		default:
			s = groupInt(a)
		}
	}
	if v < 0 {
		return "-" + s
	}
	return s
}

// show formats a value as the dashboards do for a format (money, percent,
// count, ratio, days, …); nil is an en dash.
func show(lang, currency, format string, v any) string {
	f, ok := v.(float64)
	if !ok {
		switch x := v.(type) {
		case nil:
			return "–"
		case int64:
			f = float64(x)
		case int:
			f = float64(x)
		case string:
			return x
		default:
			return toString(x)
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	zh := lang == i18n.ZH
	switch format {
	case "percent":
		return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
	case "delta":
		return sign(f) + strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
	case "pts":
		if zh {
			return sign(f) + strconv.FormatFloat(f*100, 'f', 1, 64) + " 个百分点"
		}
		return sign(f) + strconv.FormatFloat(f*100, 'f', 1, 64) + " pts"
	case "count":
		return groupInt(f)
	case "ratio":
		return strconv.FormatFloat(f, 'f', 1, 64) + "×"
	case "days":
		if zh {
			return groupInt(f) + " 天"
		}
		return groupInt(f) + " d"
	case "money":
		sym := symbols[currency]
		if sym == "" {
			sym = currency + " "
		}
		if f < 0 {
			return "-" + sym + compact(lang, -f)
		}
		return sym + compact(lang, f)
	}
	if math.Abs(f) >= 1e4 {
		return compact(lang, f)
	}
	return trimZeros(strconv.FormatFloat(math.Round(f*100)/100, 'f', 2, 64))
}

func sign(f float64) string {
	if f > 0 {
		return "+"
	}
	return ""
}

func toString(v any) string {
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	return strconv.Quote("?")
}

// kindOf maps a dashboard format to a column kind of render.
func kindOf(format string) render.Kind {
	switch format {
	case "money":
		return render.Money
	case "percent", "delta", "pts":
		return render.Percent
	case "count":
		return render.Integer
	case "date":
		return render.Date
	case "text", "":
		return render.Text
	}
	return render.Number
}

// codeLabel translates a code value of a column (a status, a stage, a
// channel …) into the reader's language, as the dashboards' rows table does
// (catalogue keys val.<column>.<code>).
func codeLabel(lang, col, v string) (string, bool) {
	kinds := []string{col}
	switch col {
	case "status":
		kinds = []string{col, "stage", "method"}
	case "previous_segment":
		kinds = []string{"segment"}
	}
	for _, k := range kinds {
		if key := "val." + k + "." + v; i18n.Has(lang, key) {
			return i18n.T(lang, key), true
		}
	}
	return "", false
}

// translator is render.Options.Translate for a language: code values of
// text columns become their labels; everything else is left to the writer.
func translator(lang string) func(c render.Column, v any) (string, bool) {
	return func(c render.Column, v any) (string, bool) {
		s, ok := v.(string)
		if !ok || s == "" || (c.Kind != render.Text && c.Kind != "") {
			return "", false
		}
		return codeLabel(lang, c.Name, s)
	}
}
