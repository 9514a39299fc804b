package etl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/triscope/triscope/etl/csv"
	"github.com/triscope/triscope/etl/ndjson"
	"github.com/triscope/triscope/etl/parquet"
	"github.com/triscope/triscope/etl/source"
	"github.com/triscope/triscope/etl/xlsx"
)

// The input formats, detected in one place: detectFormat names a file's
// format, sourceOf hands an input to its format's package (etl/csv,
// etl/xlsx, etl/parquet, etl/ndjson, etl/postgres), and everything after
// that — header, mapping, parsing, validation, quarantine — is the same for
// every format.
const (
	formatCSV      = "csv"
	formatXLSX     = "xlsx"
	formatParquet  = "parquet"
	formatNDJSON   = "ndjson"
	formatPostgres = "postgres"
)

// formatByExt names the format of a file extension. Directories are scanned
// for these (except .txt, which is read only when named).
var formatByExt = map[string]string{".csv": formatCSV, ".tsv": formatCSV, ".txt": formatCSV, ".parquet": formatParquet,
	".ndjson": formatNDJSON, ".jsonl": formatNDJSON, ".json": formatNDJSON, ".xlsx": formatXLSX, ".xlsm": formatXLSX}

// magic numbers of the binary formats, checked before the extension: the
// content decides when a file is misnamed.
var magic = []struct {
	prefix []byte
	format string
}{
	{[]byte("PAR1"), formatParquet},
	{[]byte("PK\x03\x04"), formatXLSX},
	{[]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, "ole2"}, // the old binary Office formats (.xls, .et)
}

// detectFormat names a file's format from its first bytes and its name, with
// a note when they disagree.
func detectFormat(path string) (format, note string, err error) {
	ext := strings.ToLower(filepath.Ext(path))
	byExt := formatByExt[ext]
	head := make([]byte, 8)
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	n, _ := f.Read(head)
	f.Close()
	head = head[:n]
	for _, m := range magic {
		if !bytes.HasPrefix(head, m.prefix) {
			continue
		}
		switch {
		case m.format == "ole2":
			if ext != ".xls" && ext != ".et" {
				ext = ".xls"
			}
			return "", "", fmt.Errorf("the old binary Excel format (%s) is not read; save the workbook as .xlsx", ext)
		case byExt != "" && byExt != m.format:
			return m.format, fmt.Sprintf("named %s but its content is %s: read as %s", ext, m.format, m.format), nil
		}
		return m.format, "", nil
	}
	if byExt == "" {
		if ext == ".xls" || ext == ".et" {
			return "", "", fmt.Errorf("the old binary Excel format (%s) is not read; save the workbook as .xlsx", ext)
		}
		return "", "", fmt.Errorf("unknown file type %q; use .csv, .xlsx, .parquet, .ndjson or .jsonl", filepath.Ext(path))
	}
	return byExt, "", nil
}

// sourceOf hands an input to its format's reader.
func (l *loader) sourceOf(in *input) (source.Source, error) {
	lim := l.opts.limits()
	switch in.format {
	case formatCSV:
		credit := in.credit
		progress := func(n int64) {
			skip := min(credit, n)
			credit -= skip
			if n > skip {
				l.progress(n - skip)
			}
		}
		return &csv.Source{Path: in.path, Encoding: in.set.encoding, Delimiter: in.set.delimiter, Limits: lim, Progress: progress}, nil
	case formatXLSX:
		return &xlsx.Source{Path: in.path, Sheet: in.sheet, Limits: lim}, nil
	case formatParquet:
		return &parquet.Source{DB: l.w.DB(), Path: in.path, Limits: lim}, nil
	case formatNDJSON:
		return &ndjson.Source{Path: in.path, Limits: lim, Progress: l.progress}, nil
	case formatPostgres:
		return in.pg, nil
	}
	return nil, fmt.Errorf("%s: no reader for the format %q", in.name, in.format)
}

// progressAfter is true for formats whose reader does not report bytes as it
// reads: their size counts once they are staged.
func progressAfter(format string) bool { return format == formatXLSX || format == formatParquet }
