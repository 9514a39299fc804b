package csv

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// Plain says whether a file can be read by DuckDB's CSV reader with exactly
// the records, fields and line numbers this package's reader gives it: every
// record one physical line (no line break inside quotes), every line after the
// header as wide as the header, quotes only around whole fields and doubled
// inside them, one kind of line ending (LF or CR LF, no CR elsewhere), no
// blank line, no NUL, valid UTF-8 (with or without a byte-order mark), no
// line longer than the limit. Such a file is read by DuckDB as record i being
// physical line header+i; any other file is read by Go (Table).
type Plain struct {
	OK       bool
	Why      string // why not, for people: "line 7 has 4 fields, the header has 5"
	Encoding string // utf-8 or utf-8-bom
	Rows     int64  // data lines after the header
	ASCII    bool   // no byte above 0x7F
}

// ScanPlain reads the file at path once. header is the 1-based line of the
// header, fields its number of fields, delim the field separator (an ASCII
// byte), maxLine the longest line the Go reader keeps whole.
func ScanPlain(path string, delim byte, header int64, fields int, maxLine int) (Plain, error) {
	f, err := os.Open(path)
	if err != nil {
		return Plain{}, err
	}
	defer f.Close()
	return scanPlain(f, delim, header, fields, maxLine)
}

const plainChunk = 4 << 20

func scanPlain(r io.Reader, delim byte, header int64, fields int, maxLine int) (Plain, error) {
	p := Plain{Encoding: "utf-8", ASCII: true}
	no := func(format string, args ...any) (Plain, error) {
		p.OK, p.Why = false, fmt.Sprintf(format, args...)
		return p, nil
	}
	buf := make([]byte, 0, plainChunk+maxLine+2)
	var line int64
	ending := 0 // 1 LF, 2 CR LF
	first := true
	eof := false
	for !eof {
		// Fill the buffer past the carried partial line.
		n := len(buf)
		buf = buf[:cap(buf)]
		m, err := io.ReadFull(r, buf[n:])
		buf = buf[:n+m]
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
				if len(chunk) > maxLine {
					return no("line %d is longer than %d bytes", line+1, maxLine)
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
			if len(l)+1 > maxLine {
				return no("line %d is longer than %d bytes", line, maxLine)
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
			n := 0
			if quotes && bytes.IndexByte(l, '"') >= 0 {
				var ok bool
				if n, ok = quotedFields(l, delim); !ok {
					return no("line %d has quotes that are not around whole fields, or a line break inside quotes", line)
				}
			} else {
				n = bytes.Count(l, []byte{delim}) + 1
			}
			if line > header && n != fields {
				return no("line %d has %d fields, the header has %d", line, n, fields)
			}
		}
		if eof {
			break
		}
		// Carry the partial line to the front of the buffer.
		tail := buf[bytes.LastIndexByte(buf, '\n')+1:]
		buf = append(buf[:0], tail...)
	}
	if line < header {
		return no("the file ends before line %d", header)
	}
	p.OK, p.Rows = true, line-header
	return p, nil
}

// quotedFields counts the fields of a line with quotes the way encoding/csv
// reads them (LazyQuotes off): a quote may only open a field, a quoted field
// ends with a quote followed by the delimiter or the end of the line, and a
// quote inside it is doubled. False when the line is not such a line (a bare
// quote, or a quoted field still open at the end of the line).
func quotedFields(l []byte, delim byte) (int, bool) {
	n := 1
	i := 0
	for {
		if i < len(l) && l[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(l[i:], '"')
				if j < 0 {
					return 0, false // open at the end of the line
				}
				i += j + 1
				if i < len(l) && l[i] == '"' {
					i++ // a doubled quote
					continue
				}
				break
			}
			if i == len(l) {
				return n, true
			}
			if l[i] != delim {
				return 0, false
			}
			i++
			n++
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
		if j < 0 {
			return n, true
		}
		i += j + 1
		n++
	}
}
