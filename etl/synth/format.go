package synth

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"unsafe"
)

// Days are civil days since 1970-01-01 (int32); instants are seconds since
// 1970-01-01 00:00 Asia/Shanghai wall-clock time (the company's time zone has
// had no daylight saving since 1991, so wall-clock seconds are exact).

const daySec = 86400

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civil converts a day number to year, month (1-12), day (1-31).
func civil(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mp >= 10 {
		mm = mp - 9
	}
	if mm <= 2 {
		yy++
	}
	return int(yy), int(mm), int(dd)
}

// dayOf returns the day number of a civil date; month may be out of 1..12.
func dayOf(y, m, d int) int32 {
	// normalise month
	y += floorDivInt(m-1, 12)
	m = (m-1)%12 + 1
	if m <= 0 {
		m += 12
	}
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := floorDiv(yy, 400)
	yoe := yy - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}

func floorDivInt(a, b int) int {
	return int(floorDiv(int64(a), int64(b)))
}

// monthIndex is year*12 + month-1.
func monthIndex(day int32) int {
	y, m, _ := civil(int64(day))
	return y*12 + m - 1
}

func monthStart(mi int) int32 { return dayOf(mi/12, mi%12+1, 1) }
func monthEnd(mi int) int32   { return monthStart(mi+1) - 1 }

// addMonths adds n months to a day, clamping the day of month.
func addMonths(day int32, n int) int32 {
	y, m, d := civil(int64(day))
	mi := y*12 + m - 1 + n
	last := monthEnd(mi)
	_, _, ld := civil(int64(last))
	if d > ld {
		d = ld
	}
	return dayOf(mi/12, mi%12+1, d)
}

// weekday: 0 = Sunday.
func weekday(day int32) int { return int((int64(day)%7 + 7 + 4) % 7) }

// dateTable caches the text of days 1990-01-01 .. 2059-12-31.
var dateTable = func() []byte {
	lo, hi := dayOf(1990, 1, 1), dayOf(2060, 1, 1)
	t := make([]byte, 0, int(hi-lo)*10)
	for d := lo; d < hi; d++ {
		t = appendDateSlow(t, d)
	}
	return t
}()

var dateTableLo = dayOf(1990, 1, 1)

func appendDate(b []byte, day int32) []byte {
	if i := int(day-dateTableLo) * 10; i >= 0 && i+10 <= len(dateTable) {
		return append(b, dateTable[i:i+10]...)
	}
	return appendDateSlow(b, day)
}

func appendDateSlow(b []byte, day int32) []byte {
	y, m, d := civil(int64(day))
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return b
}

func appendTS(b []byte, sec int64) []byte {
	day := floorDiv(sec, daySec)
	s := sec - day*daySec
	b = appendDate(b, int32(day))
	h, mi, ss := s/3600, s/60%60, s%60
	return append(b, 'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+ss/10), byte('0'+ss%10), '+', '0', '8', ':', '0', '0')
}

// appendCents renders an amount in cents as plain decimal with 2 places.
func appendCents(b []byte, c int64) []byte {
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	b = strconv.AppendInt(b, c/100, 10)
	r := c % 100
	return append(b, '.', byte('0'+r/10), byte('0'+r%10))
}

// appendMilli renders a quantity in thousandths with up to 3 decimals.
func appendMilli(b []byte, q int64) []byte {
	b = strconv.AppendInt(b, q/1000, 10)
	r := q % 1000
	if r == 0 {
		return b
	}
	b = append(b, '.', byte('0'+r/100))
	if r%100 != 0 {
		b = append(b, byte('0'+r/10%10))
		if r%10 != 0 {
			b = append(b, byte('0'+r%10))
		}
	}
	return b
}

func appendID(b []byte, prefix string, n int64, width int) []byte {
	b = append(b, prefix...)
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], n, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// rowWriter builds one CSV record at a time in a reused byte arena and hands
// it to encoding/csv, which does the RFC 4180 quoting. No allocation per row.
type rowWriter struct {
	arena  []byte
	ends   []int
	fields []string
	w      *csv.Writer
	out    *bytes.Buffer
	rows   int64
}

type bufSwitch struct{ b **bytes.Buffer }

func (s bufSwitch) Write(p []byte) (int, error) { return (*s.b).Write(p) }

func newRowWriter(out *bytes.Buffer) *rowWriter {
	rw := &rowWriter{out: out}
	rw.w = csv.NewWriter(bufSwitch{&rw.out})
	return rw
}

func (rw *rowWriter) mark() { rw.ends = append(rw.ends, len(rw.arena)) }

func (rw *rowWriter) str(s string) {
	rw.arena = append(rw.arena, s...)
	rw.mark()
}
func (rw *rowWriter) null() { rw.mark() }
func (rw *rowWriter) id(prefix string, n int64, width int) {
	rw.arena = appendID(rw.arena, prefix, n, width)
	rw.mark()
}

func (rw *rowWriter) date(d int32) {
	rw.arena = appendDate(rw.arena, d)
	rw.mark()
}
func (rw *rowWriter) optDate(d int32) {
	if d == noDay {
		rw.null()
		return
	}
	rw.date(d)
}
func (rw *rowWriter) ts(s int64) {
	rw.arena = appendTS(rw.arena, s)
	rw.mark()
}
func (rw *rowWriter) money(c int64) {
	rw.arena = appendCents(rw.arena, c)
	rw.mark()
}
func (rw *rowWriter) milli(q int64) {
	rw.arena = appendMilli(rw.arena, q)
	rw.mark()
}
func (rw *rowWriter) int(n int64) {
	rw.arena = strconv.AppendInt(rw.arena, n, 10)
	rw.mark()
}

func (rw *rowWriter) end() error {
	rw.fields = rw.fields[:0]
	start := 0
	for _, e := range rw.ends {
		if e == start {
			rw.fields = append(rw.fields, "")
		} else {
			rw.fields = append(rw.fields, unsafe.String(&rw.arena[start], e-start))
		}
		start = e
	}
	err := rw.w.Write(rw.fields)
	rw.arena = rw.arena[:0]
	rw.ends = rw.ends[:0]
	rw.rows++
	return err
}

func (rw *rowWriter) header(cols []string) error {
	for _, c := range cols {
		rw.str(c)
	}
	err := rw.end()
	rw.rows--
	return err
}

// flush moves everything written so far into rw.out.
func (rw *rowWriter) flush() error {
	rw.w.Flush()
	return rw.w.Error()
}

const noDay int32 = -1 << 30
