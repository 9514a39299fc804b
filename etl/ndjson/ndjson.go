// Package ndjson reads newline-delimited JSON (one object per line: .ndjson,
// .jsonl, .json) as a source.Table. The file is read in Go, so its path is
// never a pattern, and values arrive as text like a CSV file's: strings as
// they are, numbers as written, true/false, null as empty; nested objects and
// arrays as their JSON text. The header is every key in the order it first
// appears (a first pass over the file collects them). Line numbers are
// physical lines.
package ndjson

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/triscope/triscope/etl/source"
)

// Source is an NDJSON file.
type Source struct {
	Path     string
	Limits   source.Limits
	Progress func(bytes int64) // called with the bytes read (second pass)
}

// Table yields the keys, then one row per object.
type Table struct {
	f       *os.File
	r       *bufio.Reader
	lim     source.Limits
	header  []string
	index   map[string]int
	line    int64
	started bool
	rec     []string
	bad     []source.Reject
	prog    func(int64)
}

// Open reads the keys of every object (the header) and starts the rows.
func (s *Source) Open(ctx context.Context) (source.Table, error) {
	lim := s.Limits.WithDefaults()
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, err
	}
	t := &Table{f: f, lim: lim, index: map[string]int{}, prog: s.Progress}
	t.r = bufio.NewReaderSize(f, 1<<16)
	if err := t.collectKeys(ctx); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	t.r.Reset(f)
	t.line = 0
	t.rec = make([]string, len(t.header))
	return t, nil
}

// readLine returns the next line without its ending; a line longer than the
// limit is skipped to its end (long > 0 says how long it was).
func (t *Table) readLine() (line []byte, long int, err error) {
	var acc []byte
	for {
		chunk, err := t.r.ReadSlice('\n')
		if t.prog != nil && t.started {
			t.prog(int64(len(chunk)))
		}
		if long > 0 || len(acc)+len(chunk) > t.lim.MaxLineBytes {
			long += len(acc) + len(chunk)
			acc = nil
		} else {
			acc = append(acc, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(acc) == 0 && long == 0 {
			return nil, 0, io.EOF
		}
		t.line++
		if err != nil && err != io.EOF {
			return nil, 0, err
		}
		if t.line == 1 {
			acc = bytes.TrimPrefix(acc, []byte("\xef\xbb\xbf"))
		}
		return bytes.TrimRight(acc, "\r\n"), long, nil
	}
}

var errNotObject = errors.New("not a JSON object")

// object walks one line's object, calling fn for each key and its raw value.
func object(line []byte, fn func(key string, raw json.RawMessage)) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errNotObject
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		fn(k.(string), raw)
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one value on the line")
	}
	return nil
}

func (t *Table) collectKeys(ctx context.Context) error {
	first := true
	for n := 0; ; n++ {
		if n&0xFFF == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, long, err := t.readLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if long > 0 || len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if first {
			first = false
			if b := bytes.TrimSpace(line); b[0] == '[' {
				return errors.New("the file is a JSON array, not newline-delimited JSON: write one object per line")
			}
		}
		object(line, func(k string, _ json.RawMessage) {
			if _, ok := t.index[k]; !ok {
				t.index[k] = len(t.header)
				t.header = append(t.header, k)
			}
		})
	}
	if len(t.header) == 0 {
		return errors.New("no JSON object with keys: the file holds no rows")
	}
	return nil
}

// Next returns the keys first (line 0), then one row per line.
func (t *Table) Next() (source.Row, error) {
	if !t.started {
		t.started = true
		return source.Row{Fields: t.header}, nil
	}
	for {
		line, long, err := t.readLine()
		if err != nil {
			return source.Row{}, err
		}
		if long > 0 {
			t.bad = append(t.bad, source.Reject{Line: t.line, Reason: fmt.Sprintf("the line is %s long, more than the limit of %s: the line was not read",
				source.Bytes(int64(long)), source.Bytes(int64(t.lim.MaxLineBytes)))})
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if !utf8.Valid(line) {
			return source.Row{Line: t.line, Reason: "not valid UTF-8 (JSON text is UTF-8)"}, nil
		}
		clear(t.rec)
		err = object(line, func(k string, raw json.RawMessage) {
			if i, ok := t.index[k]; ok {
				t.rec[i] = text(raw)
			}
		})
		if err != nil {
			return source.Row{Line: t.line, Reason: "not a JSON object on one line: " + err.Error()}, nil
		}
		return source.Row{Fields: t.rec, Line: t.line}, nil
	}
}

// text is a JSON value as the loader reads it.
func text(raw json.RawMessage) string {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// Pending returns the lines over the length limit.
func (t *Table) Pending() []source.Reject {
	b := t.bad
	t.bad = nil
	return b
}

// Traits: the keys are the header.
func (t *Table) Traits() source.Traits { return source.Traits{Encoding: "ndjson", FixedHeader: true} }

// Close closes the file.
func (t *Table) Close() error { return t.f.Close() }
