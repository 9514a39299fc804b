package csv

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// A plain file can be read by DuckDB's CSV reader with exactly the records,
// fields and line numbers this package's reader gives it: every record one
// physical line (no line break inside quotes), every line after the header
// as wide as the header, quotes only around whole fields and doubled inside
// them, one kind of line ending (LF or CR LF, no CR elsewhere), no blank
// line, no NUL, valid UTF-8 (with or without a byte-order mark), no line
// longer than the limit. Record i of such a file is physical line header+i.
// Any other file is read by Go (Table).
//
// ScanPlain also looks at every field once: Checks say, per field, whether a
// value is in the canonical form the loader's parsers return unchanged, and
// the lines holding a value that is not are listed (Messy). Key says which
// fields make a row's key: when the keys of the other lines are strictly
// increasing (in some order of the key fields), no key repeats (Sorted).

// ScanSpec says what ScanPlain checks.
type ScanSpec struct {
	Delim   byte  // the field separator, an ASCII byte
	Header  int64 // 1-based line of the header
	Fields  int   // fields of the header
	MaxLine int   // the longest line the Go reader keeps whole
	// Checks, by field index (nil or a nil entry: no check), get a field's
	// value — its bytes, without the quotes of a quoted field (a doubled
	// quote stays doubled) — and say whether it is canonical. An empty field
	// is canonical and not checked.
	Checks []func([]byte) bool
	// MaxMessy: past this many messy lines the scan stops (Plain.TooMessy);
	// 0 means no limit.
	MaxMessy int
	// Key fields and how their canonical values compare.
	Key []KeyPart
	// Progress, when set, is called with the bytes scanned since the last call.
	Progress func(bytes int64)
}

// KeyPart is a field of the key.
type KeyPart struct {
	Field int
	// Compare orders two canonical values (-1, 0, 1) as their typed values
	// order, or returns ok false when it cannot tell (then nothing is
	// proven sorted).
	Compare func(a, b []byte) (c int, ok bool)
}

// Plain is what ScanPlain found.
type Plain struct {
	OK       bool
	Why      string // why not, for people: "line 7 has 4 fields, the header has 5"
	Encoding string // utf-8 or utf-8-bom
	Rows     int64  // data lines after the header
	ASCII    bool   // no byte above 0x7F
	Messy    []int64
	TooMessy bool
	Sorted   bool
	// MessyFields: the fields that hold, on some line, a value that is not
	// canonical. The others are canonical on every line.
	MessyFields []bool
}

// ScanPlain reads the file at path once.
func ScanPlain(path string, spec ScanSpec) (Plain, error) {
	f, err := os.Open(path)
	if err != nil {
		return Plain{}, err
	}
	defer f.Close()
	return scanPlain(f, spec)
}

const plainChunk = 4 << 20

func scanPlain(r io.Reader, spec ScanSpec) (Plain, error) {
	p := Plain{Encoding: "utf-8", ASCII: true, MessyFields: make([]bool, len(spec.Checks))}
	no := func(format string, args ...any) (Plain, error) {
		p.OK, p.Why, p.Messy = false, fmt.Sprintf(format, args...), nil
		return p, nil
	}
	delim := spec.Delim
	checked := false
	for _, c := range spec.Checks {
		checked = checked || c != nil
	}
	keys := newKeyOrder(spec.Key)
	fields := make([][]byte, spec.Fields)
	buf := make([]byte, 0, plainChunk+spec.MaxLine+2)
	var line int64
	ending := 0 // 1 LF, 2 CR LF
	first := true
	eof := false
	for !eof {
		n := len(buf)
		buf = buf[:cap(buf)]
		m, err := io.ReadFull(r, buf[n:])
		buf = buf[:n+m]
		if spec.Progress != nil && m > 0 {
			spec.Progress(int64(m))
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			eof = true
		} else if err != nil {
			return p, err
		}
		if first {
			first = false
			if bytes.HasPrefix(buf, []byte{0xEF, 0xBB, 0xBF}) {
				p.Encoding = "utf-8-bom"
				buf = buf[3:]
			}
		}
		chunk := buf
		if !eof {
			i := bytes.LastIndexByte(chunk, '\n')
			if i < 0 {
				if len(chunk) > spec.MaxLine {
					return no("line %d is longer than %d bytes", line+1, spec.MaxLine)
				}
				continue // a line longer than the chunk: read on
			}
			chunk = chunk[:i+1]
		}
		// Whole-chunk checks first: they are vectorised.
		if bytes.IndexByte(chunk, 0) >= 0 {
			return no("it holds a NUL character")
		}
		if p.ASCII && !IsASCII(chunk) {
			p.ASCII = false
		}
		if !p.ASCII && !utf8.Valid(chunk) {
			return no("it is not valid UTF-8 throughout")
		}
		crs := bytes.Count(chunk, []byte{'\r'})
		if crs > 0 && crs != bytes.Count(chunk, []byte("\r\n")) {
			return no("it has a carriage return that does not end a line")
		}
		quotes := bytes.IndexByte(chunk, '"') >= 0
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			var l []byte
			if i < 0 {
				l, chunk = chunk, nil // the last line, without an ending
			} else {
				l, chunk = chunk[:i], chunk[i+1:]
			}
			line++
			if len(l)+1 > spec.MaxLine {
				return no("line %d is longer than %d bytes", line, spec.MaxLine)
			}
			if i >= 0 {
				e := 1
				if len(l) > 0 && l[len(l)-1] == '\r' {
					l, e = l[:len(l)-1], 2
				}
				if ending == 0 {
					ending = e
				} else if e != ending {
					return no("its lines end in both LF and CR LF")
				}
			} else if len(l) > 0 && l[len(l)-1] == '\r' {
				return no("it has a carriage return that does not end a line")
			}
			if len(l) == 0 {
				return no("line %d is blank", line)
			}
			data := line > spec.Header
			var nf int
			var ok bool
			switch {
			case quotes && bytes.IndexByte(l, '"') >= 0:
				if nf, ok = splitQuoted(l, delim, fields); !ok {
					return no("line %d has quotes that are not around whole fields, or a line break inside quotes", line)
				}
			case data && (checked || keys != nil):
				nf = splitPlain(l, delim, fields)
			default:
				nf = bytes.Count(l, []byte{delim}) + 1
			}
			if !data {
				continue
			}
			if nf != spec.Fields {
				return no("line %d has %d fields, the header has %d", line, nf, spec.Fields)
			}
			canonical := true
			if checked {
				for j, check := range spec.Checks {
					if check != nil && len(fields[j]) > 0 && !check(fields[j]) {
						canonical = false
						p.MessyFields[j] = true
					}
				}
			}
			if !canonical {
				p.Messy = append(p.Messy, line)
				if spec.MaxMessy > 0 && len(p.Messy) > spec.MaxMessy {
					p.TooMessy = true
					return no("more than %d lines hold values that are not in canonical form", spec.MaxMessy)
				}
			} else if keys != nil {
				keys.next(fields)
			}
		}
		if eof {
			break
		}
		// Carry the partial line to the front of the buffer.
		tail := buf[bytes.LastIndexByte(buf, '\n')+1:]
		buf = append(buf[:0], tail...)
	}
	if line < spec.Header {
		return no("the file ends before line %d", spec.Header)
	}
	p.OK, p.Rows = true, line-spec.Header
	p.Sorted = keys != nil && keys.sorted()
	return p, nil
}

// splitPlain splits a line without quotes into fields (up to len(out); the
// count goes on past it).
func splitPlain(l []byte, delim byte, out [][]byte) int {
	n := 0
	for {
		j := bytes.IndexByte(l, delim)
		if j < 0 {
			if n < len(out) {
				out[n] = l
			}
			return n + 1
		}
		if n < len(out) {
			out[n] = l[:j]
		}
		n++
		l = l[j+1:]
	}
}

// splitQuoted splits a line with quotes the way encoding/csv reads it
// (LazyQuotes off): a quote may only open a field, a quoted field ends with a
// quote followed by the delimiter or the end of the line, and a quote inside
// it is doubled. A quoted field's value is given without its quotes. False
// when the line is not such a line (a bare quote, or a quoted field still
// open at the end of the line: a line break inside quotes).
func splitQuoted(l []byte, delim byte, out [][]byte) (int, bool) {
	n := 0
	i := 0
	put := func(v []byte) {
		if n < len(out) {
			out[n] = v
		}
		n++
	}
	for {
		if i < len(l) && l[i] == '"' {
			start := i + 1
			i++
			for {
				j := bytes.IndexByte(l[i:], '"')
				if j < 0 {
					return 0, false
				}
				i += j + 1
				if i < len(l) && l[i] == '"' {
					i++ // a doubled quote
					continue
				}
				break
			}
			put(l[start : i-1])
			if i == len(l) {
				return n, true
			}
			if l[i] != delim {
				return 0, false
			}
			i++
			if i == len(l) {
				put(l[i:])
				return n, true
			}
			continue
		}
		j := bytes.IndexByte(l[i:], delim)
		field := l[i:]
		if j >= 0 {
			field = l[i : i+j]
		}
		if bytes.IndexByte(field, '"') >= 0 {
			return 0, false // a bare quote
		}
		put(field)
		if j < 0 {
			return n, true
		}
		i += j + 1
	}
}

// keyOrder follows whether the keys of successive lines are strictly
// increasing, for every order of the key's fields at once.
type keyOrder struct {
	parts  []KeyPart
	orders [][]int // permutations of parts still strictly increasing
	prev   [][]byte
	have   bool
	broken bool
}

func newKeyOrder(parts []KeyPart) *keyOrder {
	if len(parts) == 0 || len(parts) > 4 {
		return nil
	}
	k := &keyOrder{parts: parts, prev: make([][]byte, len(parts))}
	var perm func(cur []int, used int)
	perm = func(cur []int, used int) {
		if len(cur) == len(parts) {
			k.orders = append(k.orders, append([]int(nil), cur...))
			return
		}
		for i := range parts {
			if used&(1<<i) == 0 {
				perm(append(cur, i), used|1<<i)
			}
		}
	}
	perm(nil, 0)
	return k
}

func (k *keyOrder) next(fields [][]byte) {
	if k.broken {
		return
	}
	if k.have {
		keep := k.orders[:0]
		for _, o := range k.orders {
			if k.less(o, fields) {
				keep = append(keep, o)
			}
		}
		k.orders = keep
		if len(keep) == 0 || k.broken {
			k.broken = true
			return
		}
	}
	for i, p := range k.parts {
		k.prev[i] = append(k.prev[i][:0], fields[p.Field]...)
	}
	k.have = true
}

// less is true when the previous key is strictly less than this line's in
// order o.
func (k *keyOrder) less(o []int, fields [][]byte) bool {
	for _, i := range o {
		p := k.parts[i]
		c, ok := p.Compare(k.prev[i], fields[p.Field])
		if !ok {
			k.broken = true
			return false
		}
		if c != 0 {
			return c < 0
		}
	}
	return false // equal keys
}

func (k *keyOrder) sorted() bool { return !k.broken && len(k.orders) > 0 }

// KeyOrder follows whether the keys of successive rows are strictly
// increasing (in some order of the key's fields), like ScanPlain's Sorted,
// for rows read another way (the Go reader's).
type KeyOrder struct{ k *keyOrder }

// NewKeyOrder follows the keys made of parts; nil when it cannot (no part,
// or more than four).
func NewKeyOrder(parts []KeyPart) *KeyOrder {
	k := newKeyOrder(parts)
	if k == nil {
		return nil
	}
	return &KeyOrder{k}
}

// Next takes the next row's fields (indexed by KeyPart.Field).
func (o *KeyOrder) Next(fields [][]byte) { o.k.next(fields) }

// Sorted: every key so far was strictly greater than the one before.
func (o *KeyOrder) Sorted() bool { return o != nil && o.k.sorted() }
