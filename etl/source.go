package etl

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/triscope/triscope/warehouse"
)

// source is one input file of a load.
type source struct {
	idx    int // position in the load; later files win over earlier ones on duplicate keys
	path   string
	entity *Entity
	format string // csv, parquet, ndjson
	size   int64
	sha256 string
	report *FileReport
}

var formatByExt = map[string]string{".csv": "csv", ".parquet": "parquet", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson"}

// resolveSources expands directories, names each file's entity and format,
// and hashes the content.
func resolveSources(paths []string, entity string) ([]*source, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", p, err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("input directory %s: %w", p, err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasSuffix(name, ".rejects.csv") || formatByExt[strings.ToLower(filepath.Ext(name))] == "" {
				continue
			}
			files = append(files, filepath.Join(p, name))
		}
	}
	if len(files) == 0 {
		return nil, errors.New("no input files: give CSV, Parquet or NDJSON files, or a directory holding them")
	}
	var out []*source
	for i, f := range files {
		format := formatByExt[strings.ToLower(filepath.Ext(f))]
		if format == "" {
			return nil, fmt.Errorf("%s: unknown file type %q; use .csv, .parquet, .ndjson or .jsonl", f, filepath.Ext(f))
		}
		name := entity
		if name == "" {
			name = entityFromFileName(f)
			if name == "" {
				return nil, fmt.Errorf("%s: cannot tell the entity from the file name; name the file after the entity (e.g. payments.csv) or pass --entity", f)
			}
		}
		ent, err := EntityByName(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		if st.Size() == 0 {
			return nil, fmt.Errorf("%s: the file is empty (0 bytes); an empty export is almost always a failed export, so nothing was loaded", f)
		}
		sum, err := hashFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, &source{idx: i, path: f, entity: ent, format: format, size: st.Size(), sha256: sum,
			report: &FileReport{Path: f, Entity: ent.Name, Format: format, Bytes: st.Size(), SHA256: sum}})
	}
	return out, nil
}

// entityFromFileName picks the longest entity name the base name starts with,
// followed by the end or a separator: payments.csv, payments_2024-10.csv.
func entityFromFileName(path string) string {
	base := strings.ToLower(filepath.Base(path))
	base = strings.TrimSuffix(base, filepath.Ext(base))
	best := ""
	for _, e := range Entities {
		if strings.HasPrefix(base, e.Name) && len(e.Name) > len(best) {
			rest := base[len(e.Name):]
			if rest == "" || strings.ContainsRune("._- ", rune(rest[0])) {
				best = e.Name
			}
		}
	}
	return best
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// mapHeader matches source column names to the entity's columns. It returns,
// for each entity column, the index of the source column (-1 when absent).
func mapHeader(ent *Entity, header []string) (idx []int, extra []string, err error) {
	idx = make([]int, len(ent.Columns))
	for i := range idx {
		idx[i] = -1
	}
	seen := map[string]int{}
	for j, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if prev, dup := seen[name]; dup {
			return nil, nil, fmt.Errorf("column %d %q repeats column %d; every column name must be unique", j+1, h, prev+1)
		}
		seen[name] = j
		found := false
		for i, c := range ent.Columns {
			if name == c.Name || slices.Contains(c.Aliases, name) {
				if idx[i] >= 0 {
					return nil, nil, fmt.Errorf("columns %d and %d both give %s", idx[i]+1, j+1, c.Name)
				}
				idx[i] = j
				found = true
				break
			}
		}
		if !found && name != "_load_id" {
			extra = append(extra, h)
		}
	}
	for i, c := range ent.Columns {
		if idx[i] < 0 && c.Required {
			tried := append([]string{c.Name}, c.Aliases...)
			return nil, nil, fmt.Errorf("required column %s is missing (looked for: %s)", c.Name, strings.Join(tried, ", "))
		}
	}
	return idx, extra, nil
}

// rawTable is the staging table every source of an entity is read into as text.
func rawTable(ent *Entity) string { return "stg_raw_" + ent.Name }

func createRaw(ctx context.Context, conn *sql.Conn, ent *Entity) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE OR REPLACE TEMP TABLE %s (_file INTEGER, _line BIGINT", rawTable(ent))
	for _, c := range ent.Columns {
		fmt.Fprintf(&b, ", %s VARCHAR", quoteIdent(c.Name))
	}
	b.WriteString(")")
	_, err := conn.ExecContext(ctx, b.String())
	return err
}

// lineReject is a row refused before it reached SQL (malformed CSV, bad encoding).
type lineReject struct {
	line   int64
	reason string
	value  string
}

// stageCSV streams a UTF-8 CSV file into the raw staging table. Field text is
// kept as is; typing and validation happen in SQL over the whole file.
func stageCSV(ctx context.Context, conn *sql.Conn, src *source, progress func(int64)) ([]lineReject, error) {
	f, err := os.Open(src.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	counted := &countingReader{r: f, report: progress}
	br := bufio.NewReaderSize(counted, 1<<20)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
		src.report.Encoding = "utf-8-bom"
	} else {
		src.report.Encoding = "utf-8"
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header line: %w", src.path, err)
	}
	header = slices.Clone(header)
	idx, extra, err := mapHeader(src.entity, header)
	if err != nil {
		return nil, fmt.Errorf("%s line 1: %w", src.path, err)
	}
	for _, x := range extra {
		src.report.Warnings = append(src.report.Warnings, fmt.Sprintf("column %q is not part of %s and was ignored", x, src.entity.Name))
	}
	cols := append([]string{"_file", "_line"}, src.entity.ColumnNames()...)
	var rejects []lineReject
	var rows int64
	_, err = warehouse.Append(conn, rawTable(src.entity), cols, func(row []driver.Value) (bool, error) {
		for {
			if rows&0xFFF == 0 && ctx.Err() != nil {
				return false, ctx.Err()
			}
			rec, err := r.Read()
			if err == io.EOF {
				return false, nil
			}
			line, _ := r.FieldPos(0)
			rows++
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				rejects = append(rejects, lineReject{line: int64(perr.StartLine), reason: fmt.Sprintf("malformed CSV at column %d: %v", perr.Column, perr.Err)})
				continue
			}
			if err != nil {
				return false, fmt.Errorf("%s line %d: %w", src.path, line, err)
			}
			if len(rec) != len(header) {
				rejects = append(rejects, lineReject{line: int64(line), reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header)), value: strings.Join(rec, ",")})
				continue
			}
			bad := false
			for _, v := range rec {
				if !utf8.ValidString(v) {
					rejects = append(rejects, lineReject{line: int64(line), reason: "not valid UTF-8 (is the file GBK-encoded? pass --encoding gbk)"})
					bad = true
					break
				}
			}
			if bad {
				continue
			}
			row[0], row[1] = int32(src.idx), int64(line)
			for i, j := range idx {
				if j < 0 || rec[j] == "" {
					row[i+2] = nil
				} else {
					row[i+2] = rec[j]
				}
			}
			return true, nil
		}
	})
	src.report.Read = rows
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.path, err)
	}
	return rejects, nil
}

// stageDuck reads Parquet or NDJSON through DuckDB's own readers into the raw
// staging table, every value cast to text so that typing is the same as CSV's.
func stageDuck(ctx context.Context, conn *sql.Conn, src *source) error {
	var reader string
	lit := quoteLiteral(src.path)
	switch src.format {
	case "parquet":
		reader = fmt.Sprintf("read_parquet(%s, file_row_number = true)", lit)
	case "ndjson":
		reader = fmt.Sprintf("read_json(%s, format = 'newline_delimited', sample_size = -1)", lit)
	}
	rows, err := conn.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM "+reader+")")
	if err != nil {
		return fmt.Errorf("%s: cannot read as %s: %w", src.path, src.format, err)
	}
	var header []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		if n != "file_row_number" {
			header = append(header, n)
		}
	}
	rows.Close()
	idx, extra, err := mapHeader(src.entity, header)
	if err != nil {
		return fmt.Errorf("%s: %w", src.path, err)
	}
	for _, x := range extra {
		src.report.Warnings = append(src.report.Warnings, fmt.Sprintf("column %q is not part of %s and was ignored", x, src.entity.Name))
	}
	line := "row_number() OVER ()"
	if src.format == "parquet" {
		line = "file_row_number + 1"
	}
	var sel strings.Builder
	fmt.Fprintf(&sel, "INSERT INTO %s SELECT %d, %s", rawTable(src.entity), src.idx, line)
	for _, j := range idx {
		if j < 0 {
			sel.WriteString(", NULL")
		} else {
			fmt.Fprintf(&sel, ", CAST(%s AS VARCHAR)", quoteIdent(header[j]))
		}
	}
	fmt.Fprintf(&sel, " FROM %s", reader)
	res, err := conn.ExecContext(ctx, sel.String())
	if err != nil {
		return fmt.Errorf("%s: %w", src.path, err)
	}
	src.report.Read, _ = res.RowsAffected()
	src.report.Encoding = src.format
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

func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
