package etl

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// source is one input of a load: a file, a sheet of a workbook, or a database
// query.
type source struct {
	idx    int    // position in the load; later sources win over earlier ones on duplicate keys
	path   string // the file ("" for a database)
	sheet  string // XLSX sheet
	name   string // path, path#sheet or postgres://host/db#entity: what messages and the quarantine call it
	entity *Entity
	format string // csv, xlsx, parquet, ndjson, postgres
	size   int64
	sha256 string
	set    *settings
	report *FileReport
	pg     *pgSource
}

var formatByExt = map[string]string{".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson",
	".xlsx": "xlsx", ".xlsm": "xlsx"}

// resolveSources expands directories and workbooks, names each source's entity
// and format, and hashes the content. Problems with individual files are
// collected so that one run reports all of them.
func resolveSources(paths []string, opts Options) ([]*source, []string, error) {
	var files []string
	var errs []error
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("input %s: %w", p, err))
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("input directory %s: %w", p, err))
			continue
		}
		for _, e := range entries {
			name := e.Name()
			ext := strings.ToLower(filepath.Ext(name))
			if e.IsDir() || strings.HasSuffix(name, ".rejects.csv") || strings.HasPrefix(name, "~$") || strings.HasPrefix(name, ".") ||
				ext == ".txt" || formatByExt[ext] == "" {
				continue
			}
			files = append(files, filepath.Join(p, name))
		}
	}
	if len(files) == 0 && len(errs) == 0 {
		return nil, nil, errors.New("no input files: give CSV, XLSX, Parquet or NDJSON files, or a directory holding them")
	}
	var out []*source
	var notes []string
	for _, f := range files {
		srcs, skipped, err := resolveFile(f, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		notes = append(notes, skipped...)
		out = append(out, srcs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, notes, err
	}
	if len(out) == 0 {
		return nil, notes, errors.New("no input to load: every file or sheet was skipped (" + strings.Join(notes, "; ") + ")")
	}
	for i, s := range out {
		s.idx = i
	}
	return out, notes, nil
}

func resolveFile(f string, opts Options) ([]*source, []string, error) {
	ext := strings.ToLower(filepath.Ext(f))
	format := formatByExt[ext]
	if format == "" {
		if ext == ".xls" || ext == ".et" {
			return nil, nil, fmt.Errorf("%s: the old binary Excel format (%s) is not read; save the workbook as .xlsx", f, ext)
		}
		return nil, nil, fmt.Errorf("%s: unknown file type %q; use .csv, .xlsx, .parquet, .ndjson or .jsonl", f, filepath.Ext(f))
	}
	st, err := os.Stat(f)
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		return nil, nil, fmt.Errorf("%s: the file is empty (0 bytes); an empty export is almost always a failed export, so nothing was loaded", f)
	}
	sum, err := hashFile(f)
	if err != nil {
		return nil, nil, err
	}
	if format == "xlsx" {
		return resolveWorkbook(f, st.Size(), sum, opts)
	}
	rule := opts.Mapping.ruleFor(f, "")
	if rule != nil && rule.Skip {
		return nil, []string{f + ": skipped by the mapping"}, nil
	}
	name := opts.Entity
	if name == "" && rule != nil {
		name = rule.Entity
	}
	if name == "" {
		name = entityFromFileName(f)
		if name == "" {
			return nil, nil, fmt.Errorf("%s: cannot tell the entity from the file name; name the file after the entity (e.g. payments.csv), pass --entity, or map it in a mapping file", f)
		}
	}
	ent, err := EntityByName(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f, err)
	}
	set, err := opts.Mapping.settingsFor(rule, ent, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f, err)
	}
	if ext == ".tsv" && (rule == nil || rule.Delimiter == "") && opts.Mapping.delimiter() == "" {
		set.delimiter = '\t'
	}
	return []*source{newSource(f, "", ent, format, st.Size(), sum, set)}, nil, nil
}

func newSource(path, sheet string, ent *Entity, format string, size int64, sum string, set *settings) *source {
	name := path
	if sheet != "" {
		name = path + "#" + sheet
	}
	return &source{path: path, sheet: sheet, name: name, entity: ent, format: format, size: size, sha256: sum, set: set,
		report: &FileReport{Path: name, Entity: ent.Name, Format: format, Bytes: size, SHA256: sum, Sheet: sheet, Mode: set.mode}}
}

func (m *Mapping) delimiter() string {
	if m == nil {
		return ""
	}
	return m.Delimiter
}

// entityFromFileName picks the longest entity name the base name starts with,
// followed by the end or a separator: payments.csv, payments_2024-10.csv; or a
// Chinese name: 回款2024.csv, 商机列表.xlsx.
func entityFromFileName(path string) string {
	base := strings.ToLower(filepath.Base(path))
	base = strings.TrimSuffix(base, filepath.Ext(base))
	return entityFromName(base)
}

func entityFromName(base string) string {
	base = normLower(base)
	best, bestLen := "", 0
	try := func(prefix, entity string) {
		if !strings.HasPrefix(base, prefix) || len(prefix) <= bestLen {
			return
		}
		rest := base[len(prefix):]
		if rest == "" || strings.ContainsRune("._- ", rune(rest[0])) || !isASCII([]byte(prefix)) {
			best, bestLen = entity, len(prefix)
		}
	}
	for _, e := range Entities {
		try(e.Name, e.Name)
	}
	for name, e := range sheetEntities {
		try(name, e)
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

// rawTable is the staging table every source of an entity is read into as text.
func rawTable(ent *Entity) string { return "stg_raw_" + ent.Name }

// createRaw creates the raw staging table: the source index and line of each
// row, whether Go already refused one of its values (_pre), and every contract
// column as text.
func createRaw(ctx context.Context, conn *sql.Conn, ent *Entity) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE OR REPLACE TEMP TABLE %s (_file INTEGER, _line BIGINT, _pre BOOLEAN", rawTable(ent))
	for _, c := range ent.Columns {
		fmt.Fprintf(&b, ", %s VARCHAR", quoteIdent(c.Name))
	}
	b.WriteString(")")
	_, err := conn.ExecContext(ctx, b.String())
	return err
}

// lineReject is a row or value refused before it reached SQL (malformed CSV,
// bad encoding, a value that does not parse).
type lineReject struct {
	line   int64
	column string
	reason string
	value  string
}

// stageText reads a CSV file, an XLSX sheet or a database query through the
// Go parsers into the raw staging table.
func stageText(ctx context.Context, conn *sql.Conn, src *source, progress func(int64)) (*stager, error) {
	st := &stager{src: src, ent: src.entity, set: src.set}
	var t tableReader
	switch src.format {
	case "csv":
		f, err := os.Open(src.path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		ct, enc, err := newCSVTable(&countingReader{r: f, report: progress}, src.set.encoding, src.set.delimiter)
		if err != nil {
			return nil, failFile(src, "%v", err)
		}
		src.report.Encoding = enc
		t = ct
	case "xlsx":
		xt, err := openXLSXTable(src)
		if err != nil {
			return nil, failFile(src, "%v", err)
		}
		src.report.Encoding = "xlsx"
		st.fraction = xt.fraction
		t = xt
	case "postgres":
		pt, err := src.pg.open(ctx, src)
		if err != nil {
			return nil, failFile(src, "%v", err)
		}
		src.report.Encoding = "postgres"
		t = pt
	default:
		return nil, fmt.Errorf("%s: no text reader for %s", src.name, src.format)
	}
	defer t.close()
	rest, err := st.prepare(t)
	if err != nil {
		return st, err
	}
	if err := st.stage(ctx, conn, t, rest); err != nil {
		return st, err
	}
	return st, saveRejects(conn, src.idx, st.rejects)
}

// stageDuck reads Parquet or NDJSON through DuckDB's own readers into the raw
// staging table, every value cast to text so that typing is the same as CSV's.
// These formats carry types, so the Go value parsers are not needed; header
// aliases, mapping columns, value maps and defaults apply as for text.
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
		return failFile(src, "cannot read as %s: %v", src.format, err)
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
	plan, extra, warnings, err := planColumns(src.entity, header, src.set)
	if err != nil {
		return failFile(src, "%v", err)
	}
	src.report.Warnings = append(src.report.Warnings, warnings...)
	for _, x := range extra {
		src.report.Warnings = append(src.report.Warnings, fmt.Sprintf("column %q is not part of %s and was ignored", x, src.entity.Name))
	}
	line := "row_number() OVER ()"
	if src.format == "parquet" {
		line = "file_row_number + 1"
	}
	var sel strings.Builder
	fmt.Fprintf(&sel, "INSERT INTO %s SELECT %d, %s, false", rawTable(src.entity), src.idx, line)
	for _, p := range plan {
		switch {
		case p.src >= 0:
			src.report.Mapping = append(src.report.Mapping, ColumnMapping{Column: p.col.Name, Source: p.header, How: p.how})
			v := fmt.Sprintf("CAST(%s AS VARCHAR)", quoteIdent(header[p.src]))
			if vm := valueMapSQL(p.col, src.set); vm != "" {
				v = fmt.Sprintf("coalesce(%s[lower(trim(%s))], %s)", vm, v, v)
			}
			sel.WriteString(", " + v)
		case src.set.defaults[p.col.Name] != "":
			src.report.Mapping = append(src.report.Mapping, ColumnMapping{Column: p.col.Name, Source: src.set.defaults[p.col.Name], How: "default"})
			sel.WriteString(", " + quoteLiteral(src.set.defaults[p.col.Name]))
		default:
			sel.WriteString(", NULL")
		}
	}
	fmt.Fprintf(&sel, " FROM %s", reader)
	res, err := conn.ExecContext(ctx, sel.String())
	if err != nil {
		return failFile(src, "%v", err)
	}
	src.report.Read, _ = res.RowsAffected()
	src.report.Encoding = src.format
	return nil
}

// valueMapSQL is a DuckDB MAP literal of a column's value map, or "".
func valueMapSQL(c Column, set *settings) string {
	m := map[string]string{}
	for k, v := range c.Values {
		m[k] = v
	}
	for k, v := range set.values[c.Name] {
		m[k] = v
	}
	if len(m) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(m))
	var parts []string
	for _, k := range keys {
		parts = append(parts, quoteLiteral(k)+": "+quoteLiteral(m[k]))
	}
	return "MAP {" + strings.Join(parts, ", ") + "}"
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
