package etl

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/triscope/triscope/warehouse"
)

// The case corpus: etl/testdata/cases/<name>/ holds the input files of one
// load and expected.json, the outcome (see testdata/cases/README.md). Each
// case is a subtest: go test ./etl/ -run TestCases/<name>.

type caseSpec struct {
	About   string `json:"about"`
	Setup   string `json:"setup"` // "tiny": load testdata/tiny first
	Options struct {
		Entity         string   `json:"entity"`
		Encoding       string   `json:"encoding"`
		Snapshot       []string `json:"snapshot"`
		MaxRejectShare float64  `json:"max_reject_share"`
		DryRun         bool     `json:"dry_run"`
		Force          bool     `json:"force"`
	} `json:"options"`
	// Encode rewrites input files (UTF-8 in the corpus, readable) into another
	// encoding before the load: gbk, gb18030, utf-16le, utf-16be (with BOM), utf-8-bom.
	Encode map[string]string `json:"encode"`
	// GBKLines are 1-based lines of a file written in GBK while the rest stays UTF-8.
	GBKLines map[string][]int `json:"gbk_lines"`
	// HexLines replace lines with raw bytes given in hex (for undecodable input).
	HexLines map[string]map[string]string `json:"hex_lines"`
	Status   string                       `json:"status"`
	Error    string                       `json:"error"` // substring of the load's error
	Files    []struct {
		Path          string   `json:"path"`
		Read          *int64   `json:"read"`
		Loaded        *int64   `json:"loaded"`
		Rejected      *int64   `json:"rejected"`
		Duplicates    *int64   `json:"duplicates"`
		DuplicateKeys *int64   `json:"duplicate_keys"`
		Encoding      string   `json:"encoding"`
		HeaderLine    int64    `json:"header_line"`
		Mapping       []string `json:"mapping"`  // "column←source" entries that must appear
		Warnings      []string `json:"warnings"` // substrings that must appear among the warnings
		Error         string   `json:"error"`
	} `json:"files"`
	// Rejects is the exact quarantine (duplicates excluded): file (as given in
	// files, #sheet for XLSX), line, column and a substring of the reason.
	Rejects []struct {
		File   string `json:"file"`
		Line   int64  `json:"line"`
		Column string `json:"column"`
		Value  string `json:"value"`
		Reason string `json:"reason"`
	} `json:"rejects"`
	// Checks are SQL queries and the text their single value must have.
	Checks []struct {
		SQL  string `json:"sql"`
		Want string `json:"want"`
	} `json:"checks"`
}

func TestCases(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/cases/*/expected.json")
	if len(dirs) < 40 {
		t.Fatalf("only %d cases found", len(dirs))
	}
	for _, exp := range dirs {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			runCase(t, dir)
		})
	}
}

func runCase(t *testing.T, dir string) {
	var spec caseSpec
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	if spec.About == "" {
		t.Fatal("expected.json: say what the case is about")
	}
	work := t.TempDir()
	inputs, mapping := materialise(t, dir, work, &spec)
	w := openWarehouse(t)
	if spec.Setup == "tiny" {
		mustLoad(t, w, []string{copyDir(t, "testdata/tiny")}, Options{})
	}
	opts := Options{Entity: spec.Options.Entity, Encoding: spec.Options.Encoding, Snapshot: spec.Options.Snapshot,
		MaxRejectShare: spec.Options.MaxRejectShare, DryRun: spec.Options.DryRun, Force: spec.Options.Force}
	if opts.MaxRejectShare == 0 {
		opts.MaxRejectShare = 1 // the corpus checks that good rows load beside bad ones
	}
	if mapping != "" {
		m, err := LoadMapping(mapping)
		if err != nil {
			if spec.Error != "" && strings.Contains(err.Error(), spec.Error) {
				return
			}
			t.Fatalf("mapping: %v", err)
		}
		opts.Mapping = m
	}
	rep, err := Load(context.Background(), w, inputs, opts)
	if spec.Error != "" {
		if err == nil || !strings.Contains(err.Error(), spec.Error) {
			t.Fatalf("error = %v, want it to contain %q", err, spec.Error)
		}
	} else if err != nil {
		t.Fatalf("load: %v\nreport: %s", err, reportText(rep))
	}
	if spec.Status != "" && rep.Status != spec.Status {
		t.Errorf("status %q, want %q (%s)", rep.Status, spec.Status, rep.Message)
	}
	byName := map[string]*FileReport{}
	for _, f := range rep.Files {
		byName[strings.TrimPrefix(f.Path, work+string(filepath.Separator))] = f
	}
	for _, want := range spec.Files {
		f := byName[want.Path]
		if f == nil {
			t.Errorf("no report for %s (have %v)", want.Path, keys(byName))
			continue
		}
		check := func(name string, got int64, want *int64) {
			if want != nil && got != *want {
				t.Errorf("%s: %s = %d, want %d\n%s", f.Path, name, got, *want, reportText(rep))
			}
		}
		check("read", f.Read, want.Read)
		check("loaded", f.Loaded, want.Loaded)
		check("rejected", f.Rejected, want.Rejected)
		check("duplicates", f.Duplicates, want.Duplicates)
		check("duplicate keys", f.DuplicateKeys, want.DuplicateKeys)
		if want.Encoding != "" && f.Encoding != want.Encoding {
			t.Errorf("%s: encoding %q, want %q", want.Path, f.Encoding, want.Encoding)
		}
		if want.HeaderLine != 0 && f.HeaderLine != want.HeaderLine {
			t.Errorf("%s: header on line %d, want %d", want.Path, f.HeaderLine, want.HeaderLine)
		}
		var got []string
		for _, m := range f.Mapping {
			got = append(got, m.Column+"←"+m.Source)
		}
		for _, m := range want.Mapping {
			if !slices.Contains(got, m) {
				t.Errorf("%s: mapping lacks %s; it is %v", want.Path, m, got)
			}
		}
		for _, w := range want.Warnings {
			if !slices.ContainsFunc(f.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
				t.Errorf("%s: no warning containing %q; warnings: %q", want.Path, w, f.Warnings)
			}
		}
		if want.Error != "" && !strings.Contains(f.Error, want.Error) {
			t.Errorf("%s: file error %q, want it to contain %q", want.Path, f.Error, want.Error)
		}
	}
	if spec.Rejects != nil || spec.Error == "" {
		checkRejects(t, w, rep, work, spec)
	}
	for _, c := range spec.Checks {
		var got any
		if err := w.DB().QueryRow(c.SQL).Scan(&got); err != nil {
			t.Errorf("%s: %v", c.SQL, err)
			continue
		}
		if s := fmt.Sprint(got); s != c.Want {
			t.Errorf("%s = %q, want %q", c.SQL, s, c.Want)
		}
	}
}

// checkRejects compares the quarantine with the expected one exactly: every
// bad row is named and nothing else is.
func checkRejects(t *testing.T, w *warehouse.Warehouse, rep *Report, work string, spec caseSpec) {
	t.Helper()
	type key struct {
		file   string
		line   int64
		column string
	}
	got := map[key][2]string{}
	for _, f := range rep.Files {
		for _, r := range allRejects(t, w, rep, f) {
			k := key{strings.TrimPrefix(f.Path, work+string(filepath.Separator)), r.Line, r.Column}
			if prev, ok := got[k]; ok { // two problems with one value
				r.Reason = prev[1] + " | " + r.Reason
			}
			got[k] = [2]string{r.Value, r.Reason}
		}
	}
	want := map[key]bool{}
	for _, r := range spec.Rejects {
		k := key{r.File, r.Line, r.Column}
		want[k] = true
		g, ok := got[k]
		if !ok {
			t.Errorf("expected reject %s line %d column %q (%s) is missing", r.File, r.Line, r.Column, r.Reason)
			continue
		}
		if !strings.Contains(g[1], r.Reason) {
			t.Errorf("%s line %d column %q: reason %q, want it to contain %q", r.File, r.Line, r.Column, g[1], r.Reason)
		}
		if r.Value != "" && g[0] != r.Value {
			t.Errorf("%s line %d column %q: value %q, want %q", r.File, r.Line, r.Column, g[0], r.Value)
		}
	}
	var extra []string
	for k, v := range got {
		if !want[k] {
			extra = append(extra, fmt.Sprintf("%s line %d column %q value %q: %s", k.file, k.line, k.column, v[0], v[1]))
		}
	}
	sort.Strings(extra)
	for _, e := range extra {
		t.Errorf("unexpected reject: %s", e)
	}
}

func allRejects(t *testing.T, w *warehouse.Warehouse, rep *Report, f *FileReport) []Reject {
	if rep.DryRun || rep.Status != "committed" {
		return f.Rejects // the first maxRejectsInReport: the corpus stays below
	}
	rows, err := w.DB().Query(`SELECT line, coalesce("column", ''), coalesce(value, ''), reason FROM load_rejects
		WHERE load_id = $1 AND path = $2 AND reason NOT LIKE 'duplicate key:%'`, rep.LoadID, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Reject
	for rows.Next() {
		var r Reject
		rows.Scan(&r.Line, &r.Column, &r.Value, &r.Reason)
		out = append(out, r)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func reportText(rep *Report) string {
	if rep == nil {
		return "(no report)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "status %s: %s\n", rep.Status, rep.Message)
	for _, f := range rep.Files {
		fmt.Fprintf(&b, "  %s: read %d loaded %d rejected %d dup %d enc %s err %q\n", f.Path, f.Read, f.Loaded, f.Rejected, f.Duplicates, f.Encoding, f.Error)
		for _, r := range f.Rejects {
			fmt.Fprintf(&b, "    line %d %s %q: %s\n", r.Line, r.Column, r.Value, r.Reason)
		}
		for _, w := range f.Warnings {
			fmt.Fprintf(&b, "    warning: %s\n", w)
		}
	}
	return b.String()
}

// materialise copies a case's inputs into work, applying the encodings and
// building workbooks from their JSON descriptions.
func materialise(t *testing.T, dir, work string, spec *caseSpec) (inputs []string, mapping string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		src := filepath.Join(dir, name)
		switch {
		case name == "expected.json" || name == "README.md":
			continue
		case name == "mapping.yaml":
			mapping = src
			continue
		case strings.HasSuffix(name, ".xlsx.json"):
			out := filepath.Join(work, strings.TrimSuffix(name, ".json"))
			buildWorkbook(t, src, out)
			inputs = append(inputs, out)
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		b = applyLines(t, b, spec.GBKLines[name], spec.HexLines[name])
		if enc := spec.Encode[name]; enc != "" {
			b = encodeAs(t, b, enc)
		}
		out := filepath.Join(work, name)
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, out)
	}
	sort.Strings(inputs)
	return inputs, mapping
}

func applyLines(t *testing.T, b []byte, gbk []int, hexLines map[string]string) []byte {
	if len(gbk) == 0 && len(hexLines) == 0 {
		return b
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	for _, n := range gbk {
		lines[n-1] = encodeAs(t, lines[n-1], "gbk")
	}
	for n, h := range hexLines {
		var i int
		fmt.Sscan(n, &i)
		raw, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		lines[i-1] = append(raw, '\n')
	}
	return bytes.Join(lines, nil)
}

func encodeAs(t *testing.T, b []byte, enc string) []byte {
	var out []byte
	var err error
	switch enc {
	case "gbk":
		out, err = simplifiedchinese.GBK.NewEncoder().Bytes(b)
	case "gb18030":
		out, err = simplifiedchinese.GB18030.NewEncoder().Bytes(b)
	case "utf-16le":
		out, err = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(b)
	case "utf-16be":
		out, err = unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes(b)
	case "utf-8-bom":
		out = append([]byte{0xEF, 0xBB, 0xBF}, b...)
	default:
		t.Fatalf("unknown encoding %q in expected.json", enc)
	}
	if err != nil {
		t.Fatalf("encoding as %s: %v", enc, err)
	}
	return out
}

// A workbook description: sheets with rows of cells. A cell is a JSON string
// (a text cell), a number (a number cell), null (empty) or an object:
// {"n": 0.6, "fmt": 9} a number with a built-in number format (9 = 0%, 14 = date),
// {"f": "SUM(B2:B3)", "v": "300"} a formula with its cached value,
// {"b": true} a boolean.
type workbookSpec struct {
	Date1904 bool `json:"date1904"`
	Sheets   []struct {
		Name   string            `json:"name"`
		Rows   [][]any           `json:"rows"`
		Merges []string          `json:"merges"`
		Hidden bool              `json:"hidden"`
		Cells  map[string]string `json:"cells"`
	} `json:"sheets"`
}

func buildWorkbook(t *testing.T, specPath, out string) {
	b, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	var spec workbookSpec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		t.Fatalf("%s: %v", specPath, err)
	}
	if err := writeWorkbook(spec, out); err != nil {
		t.Fatalf("%s: %v", specPath, err)
	}
}

func writeWorkbook(spec workbookSpec, out string) error {
	f := excelize.NewFile()
	defer f.Close()
	styles := map[int]int{}
	for i, sh := range spec.Sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.Name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(sh.Name); err != nil {
			return err
		}
		for r, row := range sh.Rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if err := setCell(f, sh.Name, cell, v, styles); err != nil {
					return fmt.Errorf("%s!%s: %w", sh.Name, cell, err)
				}
			}
		}
		for _, m := range sh.Merges {
			a, z, _ := strings.Cut(m, ":")
			if err := f.MergeCell(sh.Name, a, z); err != nil {
				return err
			}
		}
		if sh.Hidden {
			f.SetSheetVisible(sh.Name, false)
		}
	}
	if spec.Date1904 {
		yes := true
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
			return err
		}
	}
	return f.SaveAs(out)
}

func setCell(f *excelize.File, sheet, cell string, v any, styles map[int]int) error {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return f.SetCellStr(sheet, cell, x)
	case json.Number:
		fl, err := x.Float64()
		if err != nil {
			return err
		}
		return f.SetCellFloat(sheet, cell, fl, -1, 64)
	case map[string]any:
		if fm, ok := x["f"].(string); ok {
			if err := f.SetCellFormula(sheet, cell, fm); err != nil {
				return err
			}
			if cached, ok := x["v"].(string); ok {
				return f.SetCellStr(sheet, cell, cached)
			}
			return nil
		}
		if bv, ok := x["b"].(bool); ok {
			return f.SetCellBool(sheet, cell, bv)
		}
		if n, ok := x["n"].(json.Number); ok {
			fl, _ := n.Float64()
			if err := f.SetCellFloat(sheet, cell, fl, -1, 64); err != nil {
				return err
			}
			if fmtID, ok := x["fmt"].(json.Number); ok {
				id, _ := fmtID.Int64()
				st, ok := styles[int(id)]
				if !ok {
					var err error
					if st, err = f.NewStyle(&excelize.Style{NumFmt: int(id)}); err != nil {
						return err
					}
					styles[int(id)] = st
				}
				return f.SetCellStyle(sheet, cell, cell, st)
			}
			return nil
		}
	}
	return errors.New("unknown cell description")
}
