// Package i18n holds the dashboard message catalogues (Simplified Chinese and
// English, embedded) and formats numbers and dates per locale.
//
// Catalogues are flat JSON objects key → text in messages/: "en.json" and
// "zh-CN.json" for the core, and any "<name>.en.json" / "<name>.zh-CN.json"
// beside them (a page added later brings its own pair; they are merged).
// Every key must exist in both languages (TestCataloguesMatch).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

//go:embed messages/*.json
var messagesFS embed.FS

// Languages, in order of preference when nothing else decides.
const (
	EN = "en"
	ZH = "zh-CN"
)

// Langs lists the supported languages.
var Langs = []string{ZH, EN}

var catalogues = map[string]map[string]string{}

func init() {
	entries, err := fs.ReadDir(messagesFS, "messages")
	if err != nil {
		panic(err)
	}
	for _, lang := range Langs {
		catalogues[lang] = map[string]string{}
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		lang := name
		if i := strings.LastIndex(name, "."); i >= 0 {
			lang = name[i+1:]
		}
		cat, ok := catalogues[lang]
		if !ok {
			panic(fmt.Sprintf("i18n: %s: unknown language %q (want en or zh-CN)", e.Name(), lang))
		}
		b, err := messagesFS.ReadFile("messages/" + e.Name())
		if err != nil {
			panic(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("i18n: %s: %v", e.Name(), err))
		}
		for k, v := range m {
			if _, dup := cat[k]; dup {
				panic(fmt.Sprintf("i18n: %s: key %q defined twice", e.Name(), k))
			}
			cat[k] = v
		}
	}
}

// Keys lists the keys of a language's catalogue (sorted).
func Keys(lang string) []string {
	var out []string
	for k := range catalogues[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Catalogue returns a language's messages (read-only).
func Catalogue(lang string) map[string]string { return catalogues[Normalize(lang)] }

// Normalize maps a language tag to a supported language ("" when unsupported).
func Normalize(lang string) string {
	switch strings.ToLower(strings.ReplaceAll(lang, "_", "-")) {
	case "zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg":
		return ZH
	case "en", "en-us", "en-gb":
		return EN
	}
	return ""
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// FromRequest picks the language: ?lang=, then the "lang" cookie, then
// Accept-Language, then English.
func FromRequest(r *http.Request) string {
	if l := Normalize(r.URL.Query().Get("lang")); l != "" {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil {
		if l := Normalize(c.Value); l != "" {
			return l
		}
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, idx, conf := matcher.Match(tags...)
			if conf != language.No && idx == 1 {
				return ZH
			}
			if conf != language.No {
				return EN
			}
		}
	}
	return EN
}

// T returns the message for key in lang, formatted with args (fmt verbs) when
// given. A missing key returns the key itself, so it shows up in tests and screenshots.
func T(lang, key string, args ...any) string {
	msg, ok := catalogues[Normalize(lang)][key]
	if !ok {
		msg, ok = catalogues[EN][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// Has reports whether a key exists.
func Has(lang, key string) bool {
	_, ok := catalogues[Normalize(lang)][key]
	return ok
}

// Money formats an amount for an executive: in zh-CN with 万 and 亿
// (¥1.23亿, ¥456.8万), in English with K/M/B (¥1.23B, ¥456.8K).
func Money(lang string, v float64, currency string) string {
	if v < 0 {
		return "-" + CurrencySymbol(currency) + Compact(lang, -v)
	}
	return CurrencySymbol(currency) + Compact(lang, v)
}

// Compact formats a large number compactly per locale (no currency symbol).
func Compact(lang string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	neg := v < 0
	a := math.Abs(v)
	var s string
	if Normalize(lang) == ZH {
		switch {
		case a >= 1e8:
			s = trimZeros(strconv.FormatFloat(a/1e8, 'f', 2, 64)) + "亿"
		case a >= 1e4:
			s = trimZeros(strconv.FormatFloat(a/1e4, 'f', 1, 64)) + "万"
		default:
			s = Int(lang, int64(math.Round(a)))
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
			s = Int(lang, int64(math.Round(a)))
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Int formats an integer with thousands separators.
func Int(lang string, n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Percent formats a share (0.1234 → 12.3%).
func Percent(lang string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

// CurrencySymbol returns the symbol for a currency code (the code itself when unknown).
func CurrencySymbol(code string) string {
	switch code {
	case "CNY", "JPY":
		return "¥"
	case "USD":
		return "$"
	case "EUR":
		return "€"
	case "GBP":
		return "£"
	case "HKD":
		return "HK$"
	}
	return code + " "
}

// Date formats a date: 2026年10月31日 / 31 Oct 2026.
func Date(lang string, t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	if Normalize(lang) == ZH {
		return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
	}
	return t.Format("2 Jan 2006")
}

// DateTime formats an instant in loc: 2026年10月31日 09:30 / 31 Oct 2026 09:30.
func DateTime(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "–"
	}
	if loc != nil {
		t = t.In(loc)
	}
	return Date(lang, t) + " " + t.Format("15:04")
}

// Month formats a month label: 2026年3月 / Mar 2026.
func Month(lang string, t time.Time) string {
	if Normalize(lang) == ZH {
		return fmt.Sprintf("%d年%d月", t.Year(), t.Month())
	}
	return t.Format("Jan 2006")
}

// ShortMonth formats a month inside a known year: 3月 / Mar.
func ShortMonth(lang string, t time.Time) string {
	if Normalize(lang) == ZH {
		return fmt.Sprintf("%d月", t.Month())
	}
	return t.Format("Jan")
}
