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

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func groupInt(v float64) string { return i18n.Int("en", int64(math.Round(v))) }

func compact(lang string, v float64) string { return i18n.Compact(lang, v) }

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
		return i18n.Money(lang, f, currency)
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
