// Package source is what the loader asks of an input format. Each format
// (etl/csv, etl/xlsx, etl/parquet, etl/ndjson, etl/postgres) is a package of
// its own that turns its input into a Table: rows of text fields with their
// line numbers. The loader (package etl) detects the format in one place
// (etl/formats.go), opens the Source and does everything else the same way for
// every format: it finds the header, maps the columns to the data contract,
// parses and checks every value, and quarantines what it refuses.
//
// This package imports nothing of Triscope's, so the format packages and the
// loader can both import it.
package source

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Source is one input of a load in one format: a file, a sheet of a
// workbook, or a database query.
type Source interface {
	// Open starts reading. An error is a problem with the whole input (it is
	// not in the format, it cannot be reached, it is too large).
	Open(ctx context.Context) (Table, error)
}

// ErrReadAgain, from a Table's Next, means that the rows it gave were not
// what the input holds and that it must be read again from the start,
// opening the Source again (a large XLSX sheet whose merged areas, written
// after its rows, were found only once the rows were read).
var ErrReadAgain = errors.New("the input must be read again from the start")

// Row is one row of a table.
type Row struct {
	// Fields are the row's values as text. nil for a row that could not be
	// read at all (a malformed CSV line), which then has a Reason.
	Fields []string
	// Line is where the row is: the physical line of a text file (its first
	// line), the Excel row, the Parquet row (1-based) or the row ordinal of a
	// query.
	Line   int64
	Reason string
}

// Table yields the rows of one input. The header is a row like the others
// (the loader looks for it among the first rows, unless FixedHeader).
type Table interface {
	// Next returns the next row; io.EOF ends the table. The Fields slice may
	// be reused by the next call.
	Next() (Row, error)
	// Pending returns the lines the reader refused on its own (text it could
	// not decode, lines over the length limit), each once.
	Pending() []Reject
	// Traits say how the loader treats the rows.
	Traits() Traits
	Close() error
}

// Traits describe a table's rows.
type Traits struct {
	// Encoding is recorded in load_files.encoding: utf-8, gbk, utf-16le…
	// for text files, else the format's name.
	Encoding string
	// StrictWidth: a row with another number of fields than the header is
	// malformed (CSV); spreadsheets omit trailing empty cells.
	StrictWidth bool
	// FixedHeader: the first row is the header (a query's column names,
	// Parquet, NDJSON); there are no title rows above it.
	FixedHeader bool
	// Typed: the fields are the text of typed values (Parquet), so the text
	// parsers of dates and amounts do not apply, only value maps; the
	// warehouse's casts type them.
	Typed bool
	// Spreadsheet: the fields are spreadsheet cells (Excel error values,
	// serial dates, binary floating point).
	Spreadsheet bool
	// Date1904: the workbook's serial dates count from 1904-01-01.
	Date1904 bool
}

// PercentSniffer is implemented by tables whose cells carry a display format
// (XLSX): a percentage column whose cells show "60%" stores 0.6.
type PercentSniffer interface {
	// PercentFormatted reports, for the given column indexes, which show
	// their values as percentages in the rows below headerLine.
	PercentFormatted(cols []int, headerLine int64) (map[int]bool, error)
}

// Reject is a line or value refused before it reached SQL.
type Reject struct {
	Line   int64
	Column string // "" for a whole line
	Value  string
	Reason string
}

// Limits bound what reading one input may hold: they keep a hostile or broken
// file (a decompression bomb, a value of 50 MB, a line with no end) from
// taking the machine's memory.
type Limits struct {
	// MaxTextBytes is the longest value (in bytes of UTF-8) a field may
	// hold; the loader quarantines a row with a longer one.
	MaxTextBytes int
	// MaxLineBytes is the longest physical line (or CSV record, or NDJSON
	// line) a reader assembles; a longer line is quarantined whole without
	// being held in memory.
	MaxLineBytes int
	// MaxUnzipBytes is the largest uncompressed size of a workbook (XLSX is
	// a zip archive); a larger one is refused before it is read.
	MaxUnzipBytes int64
}

// Defaults of the limits.
const (
	DefaultMaxTextBytes  = 64 << 10
	lineBytesPerText     = 32 // a line may hold this many values of the largest size
	minLineBytes         = 1 << 20
	DefaultMaxUnzipBytes = 1 << 30
)

// WithDefaults fills the limits that are zero.
func (l Limits) WithDefaults() Limits {
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultMaxTextBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = max(minLineBytes, lineBytesPerText*l.MaxTextBytes)
	}
	if l.MaxUnzipBytes <= 0 {
		l.MaxUnzipBytes = DefaultMaxUnzipBytes
	}
	return l
}

// Bytes writes a size for people: 64 KiB, 2 MiB, 1.5 GiB.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return trimZero(fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)))
	case n >= 1<<20:
		return trimZero(fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)))
	case n >= 1<<10:
		return trimZero(fmt.Sprintf("%.1f KiB", float64(n)/(1<<10)))
	}
	return fmt.Sprintf("%d bytes", n)
}

func trimZero(s string) string {
	if len(s) > 6 && s[len(s)-6:len(s)-4] == ".0" {
		return s[:len(s)-6] + s[len(s)-4:]
	}
	return s
}

// Clip shortens a value for a message or the quarantine: at most n runes
// (whole characters), and "…" when it was cut.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, runes := 0, 0
	for i < len(s) && runes < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		runes++
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + "…"
}
