package etl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/triscope/triscope/etl/csv"
	"github.com/triscope/triscope/etl/ndjson"
	"github.com/triscope/triscope/etl/source"
	"github.com/triscope/triscope/etl/xlsx"
)

// SuggestMapping reads the first rows of each input (files, the sheets of a
// workbook, the files of a directory) and writes a mapping file that loads
// them: each file's entity (from its name, --entity, the mapping given, or
// guessed from its headers) and every header it can read as a contract
// column, by name, alias or resemblance. What it could not decide is marked
// "check" or listed as missing, so that a person reads it before using it
// (triscope load --mapping FILE). It reads no more than the header rows and
// changes nothing.
func SuggestMapping(ctx context.Context, paths []string, opts Options) ([]byte, error) {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	files, err := suggestFiles(paths)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# A mapping for triscope load --mapping, suggested from the headers of %d file(s).\n", len(files))
	b.WriteString("# Read it first: lines marked \"check\" are guesses, \"missing\" columns must be added\n")
	b.WriteString("# to the export or given a value under defaults.\n")
	if m := opts.Mapping; m != nil {
		// The settings of the mapping given, so that the suggestion reads
		// the files as it did.
		for _, kv := range [][2]string{{"timezone", m.Timezone}, {"date_order", m.DateOrder}, {"encoding", m.Encoding}, {"delimiter", m.Delimiter}, {"mode", m.Mode}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, "%s: %s\n", kv[0], yamlString(kv[1]))
			}
		}
	} else if opts.Encoding != "" {
		fmt.Fprintf(&b, "encoding: %s\n", yamlString(opts.Encoding))
	}
	b.WriteString("files:\n")
	var errs []error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tables, err := suggestTables(ctx, f, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, t := range tables {
			t.write(&b)
		}
	}
	if len(errs) > 0 && len(files) == len(errs) {
		return nil, errors.Join(errs...)
	}
	for _, err := range errs {
		fmt.Fprintf(&b, "# not suggested: %s\n", oneLineText(err.Error()))
	}
	return b.Bytes(), nil
}

// suggestFiles expands directories into the files in them a load would read.
func suggestFiles(paths []string) ([]string, error) {
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
			if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".rejects.csv") && !strings.HasPrefix(e.Name(), ".") {
				if _, _, err := detectFormat(filepath.Join(p, e.Name())); err == nil {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
		}
	}
	if len(files) == 0 {
		return nil, errors.New("no files to read: give CSV, XLSX or NDJSON files, or folders holding them")
	}
	return files, nil
}

// suggestion is the mapping rule suggested for one file or sheet.
type suggestion struct {
	file, sheet string
	entity      *Entity
	entityWhy   string
	headerRow   int64 // 0 when the header is the first row
	plan        []*colPlan
	extra       []string
	header      []string
	note        string
}

// suggestTables reads the headers of a file (each sheet of a workbook).
func suggestTables(ctx context.Context, f string, opts Options) ([]*suggestion, error) {
	st, err := os.Stat(f)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", f, fileKind(st.Mode()))
	}
	if st.Size() > opts.MaxFileBytes {
		return nil, fmt.Errorf("%s: the file is %s, more than the limit of %s", f, source.Bytes(st.Size()), source.Bytes(opts.MaxFileBytes))
	}
	format, _, err := detectFormat(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	lim := opts.limits()
	switch format {
	case formatXLSX:
		sheets, err := xlsx.Sheets(f, lim)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		var out []*suggestion
		for i, sh := range sheets {
			name := entityFromName(sh.Name)
			if name == "" && i == 0 {
				name = entityFromFileName(f)
			}
			if opts.Entity != "" && i == 0 {
				name = opts.Entity
			}
			s, err := suggestTable(ctx, f, sh.Name, name, &xlsx.Source{Path: f, Sheet: sh.Name, Limits: lim}, opts)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	case formatCSV, formatNDJSON:
		name := opts.Entity
		if name == "" {
			name = entityFromFileName(f)
		}
		var src source.Source = &ndjson.Source{Path: f, Limits: lim}
		if format == formatCSV {
			// The file's encoding and delimiter as a load would read them
			// (--encoding, the mapping given, .tsv).
			ent := Entities[0]
			if e, err := EntityByName(name); err == nil {
				ent = e
			}
			rule := opts.Mapping.ruleFor(f, "")
			set, err := opts.Mapping.settingsFor(rule, ent, opts)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			cs := &csv.Source{Path: f, Encoding: set.encoding, Delimiter: set.delimiter, Limits: lim}
			if strings.ToLower(filepath.Ext(f)) == ".tsv" && (rule == nil || rule.Delimiter == "") && opts.Mapping.delimiter() == "" {
				cs.Delimiter = '\t'
			}
			src = cs
		}
		s, err := suggestTable(ctx, f, "", name, src, opts)
		if err != nil {
			return nil, err
		}
		return []*suggestion{s}, nil
	}
	return nil, fmt.Errorf("%s: %s files carry their column names with their types; load --dry-run shows how they map", f, format)
}

// suggestTable reads the first rows of one table and matches its header to
// the named entity, or to the entity its header fits best when none is named.
func suggestTable(ctx context.Context, f, sheet, entity string, src source.Source, opts Options) (*suggestion, error) {
	where := f
	if sheet != "" {
		where += "#" + sheet
	}
	if rule := opts.Mapping.ruleFor(f, sheet); entity == "" && rule != nil {
		entity = rule.Entity
	}
	t, err := src.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	defer t.Close()
	var rows [][]string
	var lines []int64
	for len(rows) < headerSearchRows {
		row, err := t.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if row.Fields == nil || isBlank(row.Fields) {
			continue
		}
		rows = append(rows, slices.Clone(row.Fields))
		lines = append(lines, row.Line)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows: nothing to read a header from", where)
	}
	s := &suggestion{file: f, sheet: sheet}
	candidates := Entities
	if entity != "" {
		ent, err := EntityByName(entity)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		candidates = []*Entity{ent}
		s.entityWhy = "from the name"
		if opts.Entity != "" {
			s.entityWhy = "as --entity says"
		}
	}
	// The entity and header row that read the most columns.
	bestCount := -1
	for _, ent := range candidates {
		set, err := opts.Mapping.settingsFor(opts.Mapping.ruleFor(f, sheet), ent, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		for i, r := range rows {
			plan, extra, _, err := matchColumns(ent, r, set)
			if err != nil {
				continue
			}
			n := 0
			for _, p := range plan {
				if p.src >= 0 {
					n++
				}
			}
			if n > bestCount {
				bestCount = n
				s.entity, s.plan, s.extra, s.header = ent, plan, extra, r
				s.headerRow = 0
				if i > 0 {
					s.headerRow = lines[i]
				}
			}
			if len(candidates) == 1 && n >= min(2, len(ent.Columns)) {
				break // the first row that reads as a header, as a load takes it
			}
		}
	}
	if s.entity == nil || bestCount <= 0 {
		return nil, fmt.Errorf("%s: no header in the first %d rows resembles any entity's columns; name the file after its entity or pass --entity", where, headerSearchRows)
	}
	if entity == "" {
		s.entityWhy = fmt.Sprintf("check: guessed from the headers (%d of %d columns read)", bestCount, len(s.header))
	}
	return s, nil
}

// write appends the rule to a mapping file.
func (s *suggestion) write(b *bytes.Buffer) {
	fmt.Fprintf(b, "\n  - match: %s\n", yamlString(globEscape(filepath.Base(s.file))))
	if s.sheet != "" {
		fmt.Fprintf(b, "    sheet: %s\n", yamlString(globEscape(s.sheet)))
	}
	fmt.Fprintf(b, "    entity: %s    # %s\n", s.entity.Name, s.entityWhy)
	if s.headerRow > 0 {
		fmt.Fprintf(b, "    header_row: %d    # the rows above it are titles\n", s.headerRow)
	}
	used := map[int]bool{}
	for _, p := range s.plan {
		if p.src >= 0 {
			used[p.src] = true
		}
	}
	b.WriteString("    columns:\n")
	var missing, absent []string
	for _, p := range s.plan {
		switch {
		case p.src >= 0:
			why := p.how
			switch p.how {
			case "similar":
				_, like := likeness(p.col, foldHeader(p.header))
				why = fmt.Sprintf("check: resembles %q", like)
			case "alias":
				why = "a known name"
			case "name":
				why = "its name"
			}
			fmt.Fprintf(b, "      %s: %s    # %s\n", yamlString(p.header), p.col.Name, why)
		case p.col.Required && p.how != "default":
			// The closest header not read as another column, if any.
			var best string
			var bestScore float64
			for j, h := range s.header {
				if used[j] || strings.TrimSpace(h) == "" {
					continue
				}
				if sc, _ := likeness(p.col, foldHeader(h)); sc > bestScore && sc >= 0.3 {
					best, bestScore = h, sc
				}
			}
			if best != "" {
				used[slices.Index(s.header, best)] = true
				fmt.Fprintf(b, "      %s: %s    # check: %s is required and has no header of its own; this one is the closest (%.0f%% alike)\n",
					yamlString(best), p.col.Name, p.col.Name, 100*bestScore)
			} else {
				missing = append(missing, p.col.Name)
			}
		case p.how != "default":
			absent = append(absent, p.col.Name)
		}
	}
	var ignored []string
	for j, h := range s.header {
		if !used[j] && strings.TrimSpace(h) != "" {
			ignored = append(ignored, yamlString(h))
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(b, "    # missing: %s (required; add them to the export, or give a value: defaults: {%s: …})\n",
			strings.Join(missing, ", "), missing[0])
	}
	if len(absent) > 0 {
		fmt.Fprintf(b, "    # not in the file (optional): %s\n", strings.Join(absent, ", "))
	}
	if len(ignored) > 0 {
		fmt.Fprintf(b, "    # not loaded (no contract column): %s\n", strings.Join(ignored, ", "))
	}
}

// yamlString quotes s for YAML (a JSON string is a YAML double-quoted one).
func yamlString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSpace(b.String())
}

// globEscape escapes the characters a mapping's match patterns read as
// wildcards, so that the pattern names exactly this file.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func oneLineText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
