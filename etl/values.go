package etl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The value parsers turn the text of one field into the canonical text that the
// SQL typing accepts (2024-01-05, 1234.56, 2024-01-05 09:30:00+08:00, true),
// or say precisely why they cannot. They never guess: a value that could mean
// two things (05/01/2024, 1,234 in a decimal-comma file) is refused with the
// reason and what to declare in the mapping.

// valueOpts are the per-source settings that change how text is read.
type valueOpts struct {
	dateOrder    string   // "" (undeclared), "DMY" or "MDY": how to read 05/01/2024
	layouts      []string // extra Go time layouts declared in the mapping, tried first
	loc          *time.Location
	decimalComma bool // 1.234,56 and 1 234,56
	fraction     bool // a percentage column holds 0..1 (0.6 = 60 %)
	excel        bool // values come from XLSX cells: serial dates, float noise
	date1904     bool // the workbook uses the 1904 date system
}

// problem is why a value was refused.
type problem string

// ---------------------------------------------------------------- text

var zeroWidth = strings.NewReplacer("\u200b", "", "\u200c", "", "\u200d", "", "\ufeff", "", "\u2060", "")

// normKey is the matching form of an identifier: NFKC (full-width letters and
// digits become ASCII), no zero-width characters, trimmed.
func normKey(s string) string {
	if isASCIIPrint(s) {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(zeroWidth.Replace(norm.NFKC.String(s)))
}

func isASCIIPrint(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// normLower is normKey in lower case: enum values and header names.
func normLower(s string) string { return strings.ToLower(normKey(s)) }

// looksLikeFormula is true for text a spreadsheet would evaluate when opened.
func looksLikeFormula(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		// A plain number (-50, +3.5) is not a formula.
		_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		return err != nil
	}
	return false
}

// ---------------------------------------------------------------- numbers

// parseNumber reads an amount or other decimal and returns it as plain digits
// with at most scale decimals ("-1234.5"). maxInt is the largest number of
// digits before the point. percent allows a trailing % and, with o.fraction,
// reads 0.6 as 60.
func parseNumber(s string, scale, maxInt int, percent bool, o *valueOpts) (string, problem) {
	if plainDecimal(s, scale, maxInt) && !(percent && o.fraction) && !o.decimalComma {
		return s, "" // the common case: already canonical text such as 1234.5 or -20.00
	}
	orig := s
	if !isASCIIPrint(s) {
		s = norm.NFKC.String(s)
		s = strings.ReplaceAll(s, "\u2212", "-") // MINUS SIGN
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	if looksLikeFormula(s) && (s[0] == '=' || s[0] == '@') {
		return "", "a spreadsheet formula, not a number: export values, not formulas"
	}
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, strings.TrimSpace(s[1:len(s)-1])
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		if neg {
			return "", "a sign inside parentheses"
		}
		neg, s = s[0] == '-', strings.TrimSpace(s[1:])
	}
	s = stripCurrency(s)
	if strings.HasPrefix(s, "-") && !neg { // ¥-50
		neg, s = true, strings.TrimSpace(s[1:])
	}
	pct := false
	if strings.HasSuffix(s, "%") {
		if !percent {
			return "", "a percentage where a plain number is expected"
		}
		pct, s = true, strings.TrimSpace(s[:len(s)-1])
	}
	if strings.HasSuffix(s, "-") {
		return "", "a trailing minus sign: write -50 or (50)"
	}
	if s == "" {
		return "", "no digits"
	}
	var intPart, frac string
	if o.excel && strings.ContainsAny(s, "eE") || (o.excel && isPlainDecimal(s) && len(s) > 15) {
		// An XLSX number cell holds a double: read it the way Excel shows it
		// (15 significant digits), so 1234.5599999999999 is 1234.56.
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "", "not a number"
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
		if g := strconv.FormatFloat(f, 'g', 15, 64); !strings.ContainsAny(g, "e") {
			s = g
		} else if math.Abs(f) < 1e-9 {
			s = "0"
		}
		if strings.HasPrefix(s, "-") {
			neg, s = !neg, s[1:]
		}
	} else if strings.ContainsAny(s, "eE") {
		return "", "scientific notation (as Excel writes long numbers into CSV) may have lost digits: export the column as a plain number"
	}
	var p problem
	intPart, frac, p = splitDecimal(s, o.decimalComma)
	if p != "" {
		return "", p
	}
	if percent && o.fraction && !pct {
		// 0.6 → 60: move the point two places.
		frac += "00"
		intPart, frac = intPart+frac[:2], frac[2:]
	}
	frac = strings.TrimRight(frac, "0")
	intPart = strings.TrimLeft(intPart, "0")
	if len(frac) > scale {
		if scale == 0 {
			return "", problem(fmt.Sprintf("%s is not a whole number", strings.TrimSpace(orig)))
		}
		return "", problem(fmt.Sprintf("has %d decimals; at most %d are kept and nothing is rounded silently", len(frac), scale))
	}
	if len(intPart) > maxInt {
		return "", problem(fmt.Sprintf("too large: more than %d digits before the decimal point", maxInt))
	}
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, ""
}

// plainDecimal is true for -?digits(.digits) with no leading zero, at most
// maxInt integer digits and at most scale decimals: text the SQL typing reads
// exactly as written.
func plainDecimal(s string, scale, maxInt int) bool {
	i := 0
	if len(s) > 0 && s[0] == '-' {
		i = 1
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n := i - start
	if n == 0 || n > maxInt || (n > 1 && s[start] == '0') || (start == 1 && n == 1 && s[1] == '0') {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' || scale == 0 {
		return false
	}
	i++
	f := len(s) - i
	if f == 0 || f > scale {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isPlainDecimal(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

var currencyMarks = []string{"人民币", "RMB", "CNY", "USD", "EUR", "HKD", "US$", "HK$", "¥", "$", "€", "£", "元"}

func stripCurrency(s string) string {
	for _, m := range currencyMarks {
		if strings.HasPrefix(s, m) {
			return strings.TrimSpace(s[len(m):])
		}
		if strings.HasSuffix(s, m) {
			return strings.TrimSpace(s[:len(s)-len(m)])
		}
	}
	return s
}

// splitDecimal splits digits with optional grouping separators into the
// integer and fraction digits, checking that groups are of three.
func splitDecimal(s string, decimalComma bool) (intPart, frac string, p problem) {
	point := byte('.')
	if decimalComma {
		point = ','
	}
	isGroup := func(r rune) bool {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009', '\'':
			return true
		case ',':
			return !decimalComma
		case '.':
			return decimalComma
		}
		return false
	}
	ip, fp, hasPoint := strings.Cut(s, string(point))
	if hasPoint && strings.ContainsRune(fp, rune(point)) {
		return "", "", "more than one decimal point"
	}
	var groups []string
	var cur strings.Builder
	var sep rune = -1
	for _, r := range ip {
		switch {
		case r >= '0' && r <= '9':
			cur.WriteRune(r)
		case isGroup(r):
			if sep >= 0 && r != sep {
				return "", "", "mixed thousands separators"
			}
			sep = r
			groups = append(groups, cur.String())
			cur.Reset()
		case r == ',' || r == '.':
			// the other mark after the decimal one: 1.234,56 in a dot file
			if decimalComma {
				return "", "", "a decimal point in a file declared with decimal commas"
			}
			return "", "", "a comma that is not a thousands separator (is this a decimal comma? declare decimal_comma: true in the mapping)"
		default:
			return "", "", "not a number"
		}
	}
	groups = append(groups, cur.String())
	if len(groups) > 1 {
		if len(groups[0]) == 0 || len(groups[0]) > 3 {
			return "", "", "misplaced thousands separator"
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				if sep == ',' && len(groups) == 2 && len(g) < 3 {
					return "", "", "ambiguous comma: thousands separators group three digits (is it a decimal comma? declare decimal_comma: true in the mapping)"
				}
				return "", "", "misplaced thousands separator: groups must have three digits"
			}
		}
	}
	intPart = strings.Join(groups, "")
	for _, r := range fp {
		if r < '0' || r > '9' {
			if r == ',' && !decimalComma || r == '.' && decimalComma {
				return "", "", "a thousands separator after the decimal point"
			}
			return "", "", "not a number"
		}
	}
	if intPart == "" && fp == "" {
		return "", "", "not a number"
	}
	return intPart, fp, ""
}

// ---------------------------------------------------------------- dates

// date is a calendar date and, for timestamps, a time of day and zone.
type date struct {
	y, m, d       int
	hh, mm, ss    int
	nanos         int
	hasTime       bool
	zone          string // "+08:00", "Z" → "+00:00"; "" when the text had none
	fromExcelTime bool
}

// parseDate reads a date in the forms real exports use and returns YYYY-MM-DD.
func parseDate(s string, o *valueOpts) (string, problem) {
	if len(o.layouts) == 0 && isoDate(s) {
		return s, ""
	}
	d, p := parseDateTime(s, o, false)
	if p != "" || d == nil {
		return "", p
	}
	if d.hasTime && (d.hh != 0 || d.mm != 0 || d.ss != 0 || d.nanos != 0) {
		return "", "a date column holds a time of day; only the date is expected"
	}
	return string(appendDate(make([]byte, 0, 10), d)), ""
}

// isoDate is true for a valid YYYY-MM-DD: the canonical form, returned as is.
func isoDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !allDigits(s[:4], 4, 4) || !allDigits(s[5:7], 2, 2) || !allDigits(s[8:], 2, 2) {
		return false
	}
	y, m, d := atoi(s[:4]), atoi(s[5:7]), atoi(s[8:])
	return m >= 1 && m <= 12 && d >= 1 && (d <= 28 || validDate(y, m, d))
}

func appendPadded(b []byte, n, width int) []byte {
	var tmp [10]byte
	i := len(tmp)
	for n > 0 || i > len(tmp)-width {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[i:]...)
}

func appendDate(b []byte, d *date) []byte {
	b = appendPadded(b, d.y, 4)
	b = append(b, '-')
	b = appendPadded(b, d.m, 2)
	b = append(b, '-')
	return appendPadded(b, d.d, 2)
}

// parseTimestamp reads a date with an optional time of day and zone. A value
// without a zone takes the source time zone when one is declared, and is left
// to the warehouse time zone otherwise.
func parseTimestamp(s string, o *valueOpts) (string, problem) {
	if len(o.layouts) == 0 && len(s) >= 19 && s[10] == ' ' && isoDate(s[:10]) && isoTime(s[11:19]) &&
		(len(s) == 19 && o.loc == nil || len(s) == 25 && isOffset(s[19:])) {
		return s, "" // 2024-01-05 09:30:00 or 2024-01-05 09:30:00+08:00: canonical already
	}
	d, p := parseDateTime(s, o, true)
	if p != "" || d == nil {
		return "", p
	}
	zone := d.zone
	if zone == "" && o.loc != nil {
		t := time.Date(d.y, time.Month(d.m), d.d, d.hh, d.mm, d.ss, d.nanos, o.loc)
		if t.Hour() != d.hh || t.Minute() != d.mm {
			return "", problem(fmt.Sprintf("%02d:%02d does not exist on %04d-%02d-%02d in %s (daylight saving gap)", d.hh, d.mm, d.y, d.m, d.d, o.loc))
		}
		zone = t.Format("-07:00")
	}
	b := appendDate(make([]byte, 0, 32), d)
	b = append(b, ' ')
	b = appendPadded(b, d.hh, 2)
	b = append(b, ':')
	b = appendPadded(b, d.mm, 2)
	b = append(b, ':')
	b = appendPadded(b, d.ss, 2)
	if d.nanos > 0 {
		b = append(b, '.')
		b = append(b, strings.TrimRight(string(appendPadded(nil, d.nanos, 9)), "0")...)
	}
	return string(append(b, zone...)), ""
}

func isoTime(s string) bool {
	return len(s) == 8 && s[2] == ':' && s[5] == ':' && allDigits(s[:2], 2, 2) && allDigits(s[3:5], 2, 2) && allDigits(s[6:], 2, 2) &&
		atoi(s[:2]) < 24 && atoi(s[3:5]) < 60 && atoi(s[6:]) < 60
}

func isOffset(s string) bool {
	return len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':' && allDigits(s[1:3], 2, 2) && allDigits(s[4:], 2, 2) &&
		atoi(s[1:3]) <= 14 && atoi(s[4:]) < 60
}

const dateForms = "YYYY-MM-DD, YYYY/M/D, YYYY年M月D日 or YYYYMMDD"

func parseDateTime(s string, o *valueOpts, wantTime bool) (*date, problem) {
	if !isASCIIPrint(s) {
		s = norm.NFKC.String(s)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ""
	}
	if s[0] == '=' {
		return nil, "a spreadsheet formula, not a date: export values, not formulas"
	}
	for _, layout := range o.layouts {
		if t, err := time.Parse(layout, s); err == nil {
			d := &date{y: t.Year(), m: int(t.Month()), d: t.Day(), hh: t.Hour(), mm: t.Minute(), ss: t.Second(), nanos: t.Nanosecond(),
				hasTime: t.Hour()+t.Minute()+t.Second()+t.Nanosecond() > 0}
			if strings.ContainsAny(layout, "Z0") && hasZone(layout) {
				d.zone = t.Format("-07:00")
			}
			return d, ""
		}
	}
	if o.excel && isExcelSerial(s) {
		return excelSerial(s, o.date1904)
	}
	// Split off the time of day: at 'T' or the first space after the date.
	datePart, timePart := s, ""
	if i := strings.IndexAny(s, "T "); i > 0 {
		datePart, timePart = s[:i], strings.TrimSpace(s[i+1:])
	}
	d, p := parseDatePart(datePart, o)
	if p != "" {
		return nil, p
	}
	if timePart != "" {
		if p := parseTimePart(timePart, d); p != "" {
			return nil, p
		}
	}
	if !validDate(d.y, d.m, d.d) {
		return nil, problem(fmt.Sprintf("not a date: %04d-%02d-%02d does not exist", d.y, d.m, d.d))
	}
	return d, ""
}

func hasZone(layout string) bool {
	return strings.Contains(layout, "Z07") || strings.Contains(layout, "-07") || strings.Contains(layout, "MST")
}

func parseDatePart(s string, o *valueOpts) (*date, problem) {
	// 2024年1月5日
	if strings.Contains(s, "年") {
		y, rest, _ := strings.Cut(s, "年")
		m, rest, ok := strings.Cut(rest, "月")
		dd := strings.TrimSuffix(strings.TrimSuffix(rest, "日"), "号")
		if !ok || !allDigits(y, 4, 4) || !allDigits(m, 1, 2) || !allDigits(dd, 1, 2) {
			return nil, problem("not a date: expected " + dateForms)
		}
		return &date{y: atoi(y), m: atoi(m), d: atoi(dd)}, ""
	}
	if allDigits(s, 8, 8) {
		return &date{y: atoi(s[:4]), m: atoi(s[4:6]), d: atoi(s[6:])}, ""
	}
	var sep byte
	for _, c := range []byte{'-', '/', '.'} {
		if strings.IndexByte(s, c) >= 0 {
			sep = c
			break
		}
	}
	if sep == 0 {
		return nil, problem("not a date: expected " + dateForms)
	}
	parts := strings.Split(s, string(sep))
	if len(parts) != 3 {
		return nil, problem("not a date: expected " + dateForms)
	}
	a, b, c := parts[0], parts[1], parts[2]
	switch {
	case allDigits(a, 4, 4) && allDigits(b, 1, 2) && allDigits(c, 1, 2):
		return &date{y: atoi(a), m: atoi(b), d: atoi(c)}, ""
	case allDigits(a, 1, 2) && allDigits(b, 1, 2) && allDigits(c, 4, 4):
		switch o.dateOrder {
		case "DMY":
			return &date{y: atoi(c), m: atoi(b), d: atoi(a)}, ""
		case "MDY":
			return &date{y: atoi(c), m: atoi(a), d: atoi(b)}, ""
		}
		return nil, problem(fmt.Sprintf("ambiguous date %s: day-first or month-first? declare date_order: DMY or MDY in the mapping", s))
	case allDigits(a, 1, 2) && allDigits(b, 1, 2) && allDigits(c, 2, 2):
		return nil, problem(fmt.Sprintf("two-digit year in %s: use a four-digit year", s))
	case allDigits(a, 4, 4) && monthName(b) > 0 && allDigits(c, 1, 2): // 2024-Jan-05
		return &date{y: atoi(a), m: monthName(b), d: atoi(c)}, ""
	case allDigits(a, 1, 2) && monthName(b) > 0 && allDigits(c, 4, 4): // 05-Jan-2024
		return &date{y: atoi(c), m: monthName(b), d: atoi(a)}, ""
	}
	return nil, problem("not a date: expected " + dateForms)
}

func monthName(s string) int {
	if len(s) < 3 {
		return 0
	}
	names := []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	l := strings.ToLower(s)
	for i, n := range names {
		if l == n || (len(l) > 3 && strings.HasPrefix(n, l[:3]) && strings.HasPrefix(strings.ToLower(time.Month(i+1).String()), l)) {
			return i + 1
		}
	}
	return 0
}

// parseTimePart reads 9:30, 09:30:15, 09:30:15.123, each with an optional
// AM/PM and zone (Z, +08:00, +0800, +08).
func parseTimePart(s string, d *date) problem {
	d.hasTime = true
	bad := problem("not a time of day: expected HH:MM or HH:MM:SS with an optional zone such as +08:00")
	// zone
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, " UTC") {
		d.zone = "+00:00"
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(s, "Z"), " UTC"))
	} else if i := strings.LastIndexAny(s, "+-"); i > 0 {
		z := strings.TrimSpace(s[i+1:])
		var hh, mm string
		switch {
		case allDigits(z, 2, 2):
			hh, mm = z, "00"
		case allDigits(z, 4, 4):
			hh, mm = z[:2], z[2:]
		case len(z) == 5 && z[2] == ':' && allDigits(z[:2], 2, 2) && allDigits(z[3:], 2, 2):
			hh, mm = z[:2], z[3:]
		default:
			return bad
		}
		if atoi(hh) > 14 || atoi(mm) > 59 {
			return "time zone offset out of range"
		}
		d.zone = string(s[i]) + hh + ":" + mm
		s = strings.TrimSpace(s[:i])
	}
	pm, am := false, false
	up := strings.ToUpper(s)
	switch {
	case strings.HasSuffix(up, "PM") || strings.HasPrefix(s, "下午"):
		pm = true
	case strings.HasSuffix(up, "AM") || strings.HasPrefix(s, "上午"):
		am = true
	}
	if pm || am {
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "PM"), "pm"), "AM"), "am"))
		s = strings.TrimPrefix(strings.TrimPrefix(s, "下午"), "上午")
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return bad
	}
	if !allDigits(parts[0], 1, 2) || !allDigits(parts[1], 2, 2) {
		return bad
	}
	d.hh, d.mm = atoi(parts[0]), atoi(parts[1])
	if len(parts) == 3 {
		sec, frac, hasFrac := strings.Cut(parts[2], ".")
		if !allDigits(sec, 2, 2) || hasFrac && !allDigits(frac, 1, 9) {
			return bad
		}
		d.ss = atoi(sec)
		if hasFrac {
			d.nanos = atoi((frac + "000000000")[:9])
		}
	}
	if pm || am {
		if d.hh < 1 || d.hh > 12 {
			return "hour out of range for AM/PM"
		}
		if d.hh == 12 {
			d.hh = 0
		}
		if pm {
			d.hh += 12
		}
	}
	if d.hh > 23 || d.mm > 59 || d.ss > 59 {
		if d.hh == 24 && d.mm == 0 && d.ss == 0 {
			return "24:00 is not a time of day: write 00:00 of the next day"
		}
		return "time of day out of range"
	}
	return ""
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 || y < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && int(t.Month()) == m && t.Day() == d
}

func allDigits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// isExcelSerial is true for the raw value of an XLSX date cell: a day count
// with an optional fraction of a day (45296, 45296.75). Eight digits are
// YYYYMMDD, not a serial.
func isExcelSerial(s string) bool {
	ip, fp, _ := strings.Cut(s, ".")
	return allDigits(ip, 1, 7) && len(ip) != 8 && (fp == "" || allDigits(fp, 1, 30))
}

// excelSerial converts an Excel serial date. In the 1900 system day 1 is
// 1900-01-01 and day 60 is the 29 February 1900 that never existed (Lotus
// 1-2-3's bug, kept by Excel), so days after it are one off.
func excelSerial(s string, date1904 bool) (*date, problem) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 2958465 {
		return nil, "not an Excel date serial"
	}
	days := math.Floor(f)
	secs := math.Round((f - days) * 86400)
	if secs >= 86400 {
		days, secs = days+1, 0
	}
	var base time.Time
	switch {
	case date1904:
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case days == 0:
		return nil, "Excel serial 0 is the non-date 1900-01-00"
	case days == 60:
		return nil, "Excel serial 60 is 1900-02-29, a day that does not exist (Excel's 1900 leap-year bug)"
	case days < 60:
		base = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)
	default:
		base = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	}
	t := base.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
	return &date{y: t.Year(), m: int(t.Month()), d: t.Day(), hh: t.Hour(), mm: t.Minute(), ss: t.Second(),
		hasTime: secs > 0, fromExcelTime: true}, ""
}

// ---------------------------------------------------------------- booleans

var boolWords = map[string]string{
	"true": "true", "t": "true", "yes": "true", "y": "true", "1": "true", "是": "true", "√": "true",
	"false": "false", "f": "false", "no": "false", "n": "false", "0": "false", "否": "false", "×": "false",
}

func parseBool(s string) (string, problem) {
	v := normLower(s)
	if v == "" {
		return "", ""
	}
	if b, ok := boolWords[v]; ok {
		return b, ""
	}
	return "", "not true or false (also accepted: yes/no, 1/0, 是/否)"
}

// strftimeToGo converts a date format as users write it (%Y-%m-%d, also
// YYYY-MM-DD) to a Go layout.
func strftimeToGo(f string) (string, error) {
	if !strings.Contains(f, "%") {
		r := strings.NewReplacer("YYYY", "2006", "MM", "01", "DD", "02", "HH", "15", "mm", "04", "ss", "05", "SS", "05")
		out := r.Replace(f)
		if out == f {
			return "", fmt.Errorf("date format %q has no fields: write it like %%d.%%m.%%Y or DD.MM.YYYY", f)
		}
		return out, nil
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString("2006")
		case 'm':
			b.WriteString("01")
		case 'd':
			b.WriteString("02")
		case 'H':
			b.WriteString("15")
		case 'M':
			b.WriteString("04")
		case 'S':
			b.WriteString("05")
		case 'b':
			b.WriteString("Jan")
		case 'B':
			b.WriteString("January")
		case 'z':
			b.WriteString("-0700")
		case 'f':
			b.WriteString(".000000")
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("date format %q: %%%c is not supported (use %%Y %%m %%d %%H %%M %%S %%b %%z)", f, f[i])
		}
	}
	return b.String(), nil
}

// validUTF8Key is true when s can be a key: valid UTF-8 with no replacement
// characters (which mark bytes a decoder could not read).
func validUTF8Key(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError)
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return true
		}
	}
	return false
}
