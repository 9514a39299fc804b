package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileBytes bounds a report definition file.
const MaxFileBytes = 1 << 20

// FileError is a problem in a definition file, at a line.
type FileError struct {
	File string
	Line int
	Msg  string
}

func (e FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// LoadDir reads every *.yaml / *.yml file of a folder (one report per
// file; a file's name is the report's name unless it says otherwise) and
// validates them. All problems are returned together, each naming its file
// and line; the reports without problems are returned too.
func LoadDir(fsys fs.FS, dir string, env Env) ([]*Report, error) {
	var out []*Report
	var errs []error
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reports: reading %s: %w", dir, err)
	}
	names := map[string]string{}
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		file := path.Join(dir, e.Name())
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		display := filepath.FromSlash(file)
		r, ferrs := Parse(display, b, strings.TrimSuffix(e.Name(), ext), env)
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		if other, dup := names[r.Name]; dup {
			errs = append(errs, FileError{File: display, Line: 1, Msg: fmt.Sprintf("report name %q is also the name of %s", r.Name, other)})
			continue
		}
		names[r.Name] = display
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Report) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// Parse reads one definition. name is the report's name when the file
// gives none. Errors name the file and the line.
func Parse(file string, b []byte, name string, env Env) (*Report, []error) {
	if len(b) > MaxFileBytes {
		return nil, []error{FileError{File: file, Msg: fmt.Sprintf("larger than %d bytes", MaxFileBytes)}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlErrors(file, err)
	}
	if len(root.Content) == 0 {
		return nil, []error{FileError{File: file, Line: 1, Msg: "empty file"}}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, []error{FileError{File: file, Line: doc.Line, Msg: "a report is a mapping (name:, title:, content:, …)"}}
	}
	var r Report
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return nil, yamlErrors(file, err)
	}
	if r.Name == "" {
		r.Name = name
	}
	r.Source, r.File = "file", file
	if r.Owner == "" {
		r.Owner = "admin"
	}
	var errs []error
	for _, p := range r.Validate(env) {
		errs = append(errs, FileError{File: file, Line: lineOf(doc, p.Path), Msg: p.Error()})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &r, nil
}

// yamlErrors turns yaml.v3's messages ("line 7: field x not found in type
// reports.Content") into file:line errors.
func yamlErrors(file string, err error) []error {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var out []error
	for _, m := range msgs {
		fe := FileError{File: file, Msg: m}
		if sm := yamlLineRE.FindStringSubmatch(m); sm != nil {
			fe.Line, _ = strconv.Atoi(sm[1])
			fe.Msg = sm[2]
		}
		fe.Msg = strings.ReplaceAll(fe.Msg, "reports.", "")
		out = append(out, fe)
	}
	return out
}

// lineOf finds the line of the node at a path (field names, indices); the
// deepest node that exists when the path goes further than the file.
func lineOf(n *yaml.Node, p []any) int {
	line := n.Line
	for _, el := range p {
		switch v := el.(type) {
		case int:
			if n.Kind != yaml.SequenceNode || v >= len(n.Content) {
				return line
			}
			n = n.Content[v]
			line = n.Line
		default:
			key := fmt.Sprint(v)
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line = n.Content[i].Line // the key's line
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return line
			}
		}
	}
	return line
}
