package render

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// num is a value read as a number: f always, i when it is an int64, s when
// its exact decimal text is known (a decimal string or duckdb.Decimal).
type num struct {
	f     float64
	i     int64
	isInt bool
	s     string
}

// plainNumber is a decimal number as a spreadsheet reads one: an optional
// sign, digits with an optional point, an optional exponent. No spaces,
// thousands separators, hex, Inf or NaN.
var plainNumber = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// isPlainNumber is plainNumber without the regexp for the common short case.
func isPlainNumber(s string) bool {
	if s == "" {
		return false
	}
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || ((c == '-' || c == '+') && i == 0):
		default:
			return plainNumber.MatchString(s)
		}
	}
	return digits && strings.Count(s, ".") <= 1
}

// blank is true for values written as an empty cell (NULL).
func blank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case float64:
		return math.IsNaN(x) || math.IsInf(x, 0)
	case float32:
		return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0)
	}
	return false
}

// toNum reads v as a number; ok is false when it is not one.
func toNum(v any) (n num, ok bool) {
	switch x := v.(type) {
	case int:
		return num{f: float64(x), i: int64(x), isInt: true}, true
	case int8:
		return num{f: float64(x), i: int64(x), isInt: true}, true
	case int16:
		return num{f: float64(x), i: int64(x), isInt: true}, true
	case int32:
		return num{f: float64(x), i: int64(x), isInt: true}, true
	case int64:
		return num{f: float64(x), i: x, isInt: true}, true
	case uint:
		return uintNum(uint64(x)), true
	case uint8:
		return uintNum(uint64(x)), true
	case uint16:
		return uintNum(uint64(x)), true
	case uint32:
		return uintNum(uint64(x)), true
	case uint64:
		return uintNum(x), true
	case float32:
		return num{f: float64(x)}, true
	case float64:
		return num{f: x}, true
	case *big.Int:
		if x == nil {
			return num{}, false
		}
		if x.IsInt64() {
			return num{f: float64(x.Int64()), i: x.Int64(), isInt: true}, true
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return num{f: f, s: x.String()}, true
	case *big.Rat:
		if x == nil {
			return num{}, false
		}
		f, _ := x.Float64()
		return num{f: f}, true
	case string:
		return strNum(x)
	case interface {
		Float64() float64
		String() string
	}: // duckdb.Decimal
		n, ok := strNum(x.String())
		if !ok {
			n = num{f: x.Float64()}
		}
		return n, true
	}
	return num{}, false
}

func uintNum(u uint64) num {
	if u <= math.MaxInt64 {
		return num{f: float64(u), i: int64(u), isInt: true}
	}
	return num{f: float64(u), s: strconv.FormatUint(u, 10)}
}

func strNum(s string) (num, bool) {
	if !isPlainNumber(s) {
		return num{}, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return num{}, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return num{f: f, i: i, isInt: true, s: s}, true
	}
	return num{f: f, s: s}, true
}

// integral is the number as an int64 when it has no fraction.
func (n num) integral() (int64, bool) {
	if n.isInt {
		return n.i, true
	}
	if n.f == math.Trunc(n.f) && math.Abs(n.f) < 1<<53 {
		return int64(n.f), true
	}
	return 0, false
}

// cents is the number in hundredths, rounded half away from zero, as the
// decimal it is written as (a float as its shortest decimal).
func (n num) cents() (int64, bool) {
	if n.isInt {
		if n.i > math.MaxInt64/100 || n.i < math.MinInt64/100 {
			return 0, false
		}
		return n.i * 100, true
	}
	s := n.s
	if s == "" && !math.IsNaN(n.f) && !math.IsInf(n.f, 0) {
		// The shortest decimal that is this float: 2.675 is 2.675, not
		// 2.67499999999999982236431605997495353221893310546875.
		s = strconv.FormatFloat(n.f, 'f', -1, 64)
	}
	if s != "" && !strings.ContainsAny(s, "eE") {
		r, ok := new(big.Rat).SetString(s)
		if ok {
			r.Mul(r, big.NewRat(100, 1))
			q := new(big.Int).Quo(r.Num(), r.Denom()) // truncated
			rem := new(big.Rat).Sub(r, new(big.Rat).SetInt(q))
			half := big.NewRat(1, 2)
			if rem.Cmp(half) >= 0 {
				q.Add(q, big.NewInt(1))
			} else if rem.Cmp(new(big.Rat).Neg(half)) <= 0 {
				q.Sub(q, big.NewInt(1))
			}
			if q.IsInt64() {
				return q.Int64(), true
			}
			return 0, false
		}
	}
	c := math.Round(n.f * 100)
	if math.IsNaN(c) || math.Abs(c) >= 1e18 {
		return 0, false
	}
	return int64(c), true
}

// toDate reads v as a calendar day (midnight UTC).
func toDate(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC), true
	case string:
		if len(x) < 10 || (len(x) > 10 && x[10] != 'T' && x[10] != ' ') {
			return time.Time{}, false
		}
		d, err := time.Parse("2006-01-02", x[:10])
		return d, err == nil
	}
	return time.Time{}, false
}

// toInstant reads v as an instant.
func toInstant(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func toBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(x)
		return b, err == nil
	}
	return false, false
}

// toText is a value as text when no kind applies.
func toText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// plain is the machine-readable text of a value for its column's kind
// (CSV): numbers without separators, money with its cents, dates ISO,
// instants in loc. A value that does not fit its kind is written as text.
func plain(k Kind, v any, loc *time.Location) string {
	if blank(v) {
		return ""
	}
	switch k {
	case Number, Integer, Money, Percent:
		n, ok := toNum(v)
		if !ok {
			break
		}
		switch {
		case n.s != "":
			return n.s
		case n.isInt:
			return strconv.FormatInt(n.i, 10)
		case k == Money:
			return strconv.FormatFloat(n.f, 'f', 2, 64)
		}
		return strconv.FormatFloat(n.f, 'f', -1, 64)
	case Date:
		if d, ok := toDate(v); ok {
			return d.Format("2006-01-02")
		}
	case Time:
		if t, ok := toInstant(v); ok {
			return t.In(loc).Format("2006-01-02 15:04:05")
		}
	case Bool:
		if b, ok := toBool(v); ok {
			return strconv.FormatBool(b)
		}
	}
	return toText(v)
}

// excelEpoch is day 0 of Excel's 1900 date system (after its 1900-02-29).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// excelSerial is the Excel serial number of a wall-clock time; ok is false
// before 1900-03-01, where Excel's calendar is off by a day.
func excelSerial(t time.Time) (float64, bool) {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if wall.Year() < 1900 || (wall.Year() == 1900 && wall.Month() < 3) || wall.Year() > 9999 {
		return 0, false
	}
	secs := wall.Unix() - excelEpoch.Unix() // > 0
	return (float64(secs) + float64(wall.Nanosecond())/1e9) / 86400, true
}
