package etl

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/triscope/triscope/etl/csv"
	"github.com/triscope/triscope/etl/postgres"
	"github.com/triscope/triscope/etl/source"
	"github.com/triscope/triscope/etl/xlsx"
)

// input is one input of a load: a file, a sheet of a workbook, or a
// database query, with the entity it fills and its settings.
type input struct {
	idx    int    // position in the load; later inputs win over earlier ones on duplicate keys
	path   string // the file ("" for a database)
	sheet  string // XLSX sheet
	name   string // path, path#sheet or postgres://host/db#entity: what messages and the quarantine call it
	entity *Entity
	format string // csv, xlsx, parquet, ndjson, postgres (formats.go)
	size   int64
	sha256 string
	set    *settings
	report *FileReport
	pg     *postgres.Source // the query of a database input
	credit int64            // bytes of it already counted in the progress (a scan, fastcsv.go)
}

// resolveSources expands directories and workbooks, names each source's entity
// and format, and hashes the content. Problems with individual files are
// collected so that one run reports all of them.
func resolveSources(paths []string, opts Options) ([]*input, []string, error) {
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
	var out []*input
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

func resolveFile(f string, opts Options) ([]*input, []string, error) {
	st, err := os.Stat(f)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: not a regular file (%s): the loader reads files, not pipes, devices or sockets", f, fileKind(st.Mode()))
	}
	if st.Size() == 0 {
		return nil, nil, fmt.Errorf("%s: the file is empty (0 bytes); an empty export is almost always a failed export, so nothing was loaded", f)
	}
	if st.Size() > opts.MaxFileBytes {
		return nil, nil, fmt.Errorf("%s: the file is %s, more than the limit of %s for one input (MaxFileBytes)", f, source.Bytes(st.Size()), source.Bytes(opts.MaxFileBytes))
	}
	format, note, err := detectFormat(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f, err)
	}
	var notes []string
	if note != "" {
		notes = append(notes, f+": "+note)
	}
	sum, err := hashFile(f)
	if err != nil {
		return nil, nil, err
	}
	if format == formatXLSX {
		srcs, more, err := resolveWorkbook(f, st.Size(), sum, opts)
		return srcs, append(notes, more...), err
	}
	rule := opts.Mapping.ruleFor(f, "")
	if rule != nil && rule.Skip {
		return nil, append(notes, f+": skipped by the mapping"), nil
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
	if strings.ToLower(filepath.Ext(f)) == ".tsv" && (rule == nil || rule.Delimiter == "") && opts.Mapping.delimiter() == "" {
		set.delimiter = '\t'
	}
	return []*input{newInput(f, "", ent, format, st.Size(), sum, set)}, notes, nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return m.Type().String()
}

// resolveWorkbook makes one input per sheet of a workbook: its entity comes
// from the mapping, --entity (first sheet), the sheet name or, for the first
// sheet, the file name; other sheets are skipped with a note.
func resolveWorkbook(f string, size int64, sum string, opts Options) ([]*input, []string, error) {
	sheets, err := xlsx.Sheets(f, opts.limits())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f, err)
	}
	var out []*input
	var notes []string
	for i, sh := range sheets {
		rule := opts.Mapping.ruleFor(f, sh.Name)
		if rule != nil && rule.Sheet == "" && i > 0 {
			rule = nil // a rule without sheet: applies to the first sheet
		}
		if rule != nil && rule.Skip {
			notes = append(notes, fmt.Sprintf("%s#%s: skipped by the mapping", f, sh.Name))
			continue
		}
		name := ""
		switch {
		case opts.Entity != "" && i == 0:
			name = opts.Entity
		case rule != nil && rule.Entity != "":
			name = rule.Entity
		default:
			name = entityFromName(sh.Name)
			if name == "" && i == 0 {
				name = entityFromFileName(f)
			}
		}
		if name == "" {
			notes = append(notes, fmt.Sprintf("%s#%s: the sheet is not named after an entity and no mapping rule matches it, so it was ignored", f, sh.Name))
			continue
		}
		ent, err := EntityByName(name)
		if err != nil {
			return nil, nil, fmt.Errorf("%s#%s: %w", f, sh.Name, err)
		}
		set, err := opts.Mapping.settingsFor(rule, ent, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("%s#%s: %w", f, sh.Name, err)
		}
		h := sha256.Sum256([]byte(sum + "#" + sh.Name))
		in := newInput(f, sh.Name, ent, formatXLSX, size, hex.EncodeToString(h[:]), set)
		in.size = size / int64(len(sheets))
		out = append(out, in)
	}
	return out, notes, nil
}

func newInput(path, sheet string, ent *Entity, format string, size int64, sum string, set *settings) *input {
	name := path
	if sheet != "" {
		name = path + "#" + sheet
	}
	return &input{path: path, sheet: sheet, name: name, entity: ent, format: format, size: size, sha256: sum, set: set,
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
		if rest == "" || strings.ContainsRune("._- ", rune(rest[0])) || !csv.IsASCII([]byte(prefix)) {
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

// hashFile hashes a file's content. It opens without blocking and checks
// again that it is a regular file: a named pipe put in its place after the
// first check would otherwise hang the load.
func hashFile(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file: the loader reads files, not pipes, devices or sockets", path)
	}
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

func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
