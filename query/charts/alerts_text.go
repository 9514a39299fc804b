package charts

import (
	"regexp"
	"strconv"

	"github.com/triscope/triscope/query/i18n"
)

// The alerts model writes one line of English detail per alert (printf in
// models/sql/alerts.sql). AlertDetail reads its figures back and says the same
// in the user's language, amounts in the display currency; a line it does not
// recognise is shown as it is.
var alertPatterns = map[string]*regexp.Regexp{
	"purchases_down":        regexp.MustCompile(`^monthly purchases (\d{4}-\d{2}) to (\d{4}-\d{2}): (-?[\d.]+) → (-?[\d.]+) → (-?[\d.]+) → (-?[\d.]+)$`),
	"settlement_overdue":    regexp.MustCompile(`^due (\d{4}-\d{2}-\d{2}), (-?\d+) days overdue: (-?[\d.]+) outstanding of (-?[\d.]+)$`),
	"settlement_due":        regexp.MustCompile(`^due (\d{4}-\d{2}-\d{2}), in (-?\d+) days: (-?[\d.]+) outstanding of (-?[\d.]+)$`),
	"contract_ending":       regexp.MustCompile(`^ends (\d{4}-\d{2}-\d{2}), in (-?\d+) days \(amount (-?[\d.]+)\)$`),
	"stalled_deal":          regexp.MustCompile(`^in (\S+) for (-?\d+) days; the median is (-?[\d.]+) days$`),
	"forecast_below_target": regexp.MustCompile(`^forecast for (\d{4}-\d{2}) \((\w+)\) (-?[\d.]+) vs target (-?[\d.]+): (-?\d+)%$`),
}

// AlertDetail localises an alert's detail line. Amounts in it are in the base
// currency; rate converts them to the display currency (shown = base / rate).
func AlertDetail(lang, currency string, rate float64, kind, detail string) string {
	re, ok := alertPatterns[kind]
	if !ok {
		return detail
	}
	m := re.FindStringSubmatch(detail)
	if m == nil {
		return detail
	}
	money := func(s string) string {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return s
		}
		if rate > 0 {
			v /= rate
		}
		return i18n.Money(lang, v, currency)
	}
	key := "alert.detail." + kind
	switch kind {
	case "purchases_down":
		return i18n.T(lang, key, m[1], m[2], money(m[3]), money(m[4]), money(m[5]), money(m[6]))
	case "settlement_overdue", "settlement_due":
		return i18n.T(lang, key, m[1], m[2], money(m[3]), money(m[4]))
	case "contract_ending":
		return i18n.T(lang, key, m[1], m[2], money(m[3]))
	case "stalled_deal":
		stage := m[1]
		if k := "val.stage." + stage; i18n.Has(lang, k) {
			stage = i18n.T(lang, k)
		}
		return i18n.T(lang, key, stage, m[2], m[3])
	case "forecast_below_target":
		return i18n.T(lang, key, m[1], money(m[3]), money(m[4]), m[5]+"%")
	}
	return detail
}
