// Package csv reads delimited text files (CSV, TSV, semicolon-separated) in
// the encodings CRM exports come in, as a source.Table: one row per record,
// with the physical line it starts on. Lines that cannot be decoded or are
// longer than the limit are refused on their own (Pending), every other line
// is read.
package csv

import (
	"bufio"
	"context"
	stdcsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/triscope/triscope/etl/source"
)

// Source is a delimited text file.
type Source struct {
	Path      string
	Encoding  string // declared encoding ("" or auto: detected)
	Delimiter rune   // field separator (default ',')
	Limits    source.Limits
	Progress  func(bytes int64) // called with the bytes read since the last call
}

// Open opens the file and detects its encoding.
func (s *Source) Open(ctx context.Context) (source.Table, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, err
	}
	t, err := NewTable(&countingReader{r: f, report: s.Progress}, s.Encoding, s.Delimiter, s.Limits)
	if err != nil {
		f.Close()
		return nil, err
	}
	t.closer = f
	return t, nil
}

// Table reads CSV records through the line decoder.
type Table struct {
	r      *stdcsv.Reader
	dec    *lineDecoder
	enc    string
	closer io.Closer
}

// NewTable reads delimited text from r.
func NewTable(r io.Reader, declared string, delim rune, lim source.Limits) (*Table, error) {
	lim = lim.WithDefaults()
	dec, enc, err := newLineDecoder(r, declared, lim.MaxLineBytes)
	if err != nil {
		return nil, err
	}
	if delim == 0 {
		delim = ','
	}
	cr := stdcsv.NewReader(bufio.NewReaderSize(dec, 1<<16))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.Comma = delim
	cr.LazyQuotes = false
	return &Table{r: cr, dec: dec, enc: enc}, nil
}

// Next returns the next record.
func (t *Table) Next() (source.Row, error) {
	rec, err := t.r.Read()
	t.dec.mark()
	if err == io.EOF {
		return source.Row{}, io.EOF
	}
	if errors.Is(err, errRecordTooLong) {
		return source.Row{Line: t.dec.line}, fmt.Errorf("a record runs on past line %d for more than %s: is a quote never closed?", t.dec.line, source.Bytes(int64(t.dec.maxLine)))
	}
	var perr *stdcsv.ParseError
	if errors.As(err, &perr) {
		if errors.Is(perr.Err, stdcsv.ErrFieldCount) {
			line, _ := t.r.FieldPos(0)
			return source.Row{Fields: rec, Line: int64(line)}, nil
		}
		return source.Row{Line: int64(perr.StartLine), Reason: fmt.Sprintf("malformed CSV at column %d: %v", perr.Column, perr.Err)}, nil
	}
	if err != nil {
		return source.Row{}, err
	}
	line, _ := t.r.FieldPos(0)
	return source.Row{Fields: rec, Line: int64(line)}, nil
}

// Pending returns the lines the decoder refused since the last call.
func (t *Table) Pending() []source.Reject {
	b := t.dec.bad
	t.dec.bad = t.dec.bad[len(b):]
	return b
}

// Traits: CSV records must be as wide as the header.
func (t *Table) Traits() source.Traits { return source.Traits{Encoding: t.enc, StrictWidth: true} }

// Close closes the file.
func (t *Table) Close() error {
	if t.closer != nil {
		return t.closer.Close()
	}
	return nil
}

type countingReader struct {
	r      io.Reader
	report func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.report != nil && n > 0 {
		c.report(int64(n))
	}
	return n, err
}
