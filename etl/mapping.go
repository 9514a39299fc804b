package etl

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"
	_ "time/tzdata"
	"unicode/utf8" // source time zones resolve offline and on machines without zoneinfo

	"go.yaml.in/yaml/v3"

	"github.com/triscope/triscope/etl/csv"
)

// Mapping is a mapping file: how the files (or sheets, or database tables) of
// one company's exports map to the data contract. Example:
//
//	timezone: Asia/Shanghai        # defaults for every rule below
//	files:
//	  - match: "回款*.csv"           # glob on the file name
//	    entity: payments
//	    columns: {到账金额: amount, 客户: customer_id}
//	    defaults: {currency: CNY}    # when the column is absent
//	  - match: "crm.xlsx"
//	    sheet: "商机*"               # glob on the sheet name
//	    entity: opportunities
//	    values: {status: {Won: won, 丢单: lost}}
//	    date_order: DMY              # 05/01/2024 is 5 January
//	    percent_as_fraction: [probability]
//	    mode: snapshot
//	tables:                          # for --source postgres://…
//	  - entity: customers
//	    table: crm.customers
//	    watermark: updated_at
type Mapping struct {
	Path        string `yaml:"-"`
	RuleOptions `yaml:",inline"`
	Files       []*Rule `yaml:"files"`
	Tables      []*Rule `yaml:"tables"`
}

// RuleOptions are the settings a rule can give and the mapping's top level
// gives as defaults for every rule.
type RuleOptions struct {
	Timezone     string   `yaml:"timezone"`      // zone of timestamps without an offset
	DateOrder    string   `yaml:"date_order"`    // DMY or MDY: how to read 05/01/2024
	DateFormats  []string `yaml:"date_formats"`  // extra formats, %d.%m.%Y or DD.MM.YYYY
	DecimalComma *bool    `yaml:"decimal_comma"` // 1.234,56
	Encoding     string   `yaml:"encoding"`      // auto (default), utf-8, gbk, gb18030, utf-16
	Delimiter    string   `yaml:"delimiter"`     // CSV field separator (default ",")
	Mode         string   `yaml:"mode"`          // incremental (default) or snapshot
}

// Rule maps one kind of source to an entity.
type Rule struct {
	Match       string                       `yaml:"match"` // glob on the file's base name
	Sheet       string                       `yaml:"sheet"` // glob on the sheet name (XLSX)
	Entity      string                       `yaml:"entity"`
	Table       string                       `yaml:"table"`     // database: table to read
	Query       string                       `yaml:"query"`     // database: or a SELECT
	Watermark   string                       `yaml:"watermark"` // database: column for incremental reads
	Columns     map[string]string            `yaml:"columns"`   // source header → contract column
	Values      map[string]map[string]string `yaml:"values"`    // contract column → source value → contract value
	Defaults    map[string]string            `yaml:"defaults"`  // contract column → value when the column is absent
	Fractions   []string                     `yaml:"percent_as_fraction"`
	HeaderRow   int                          `yaml:"header_row"` // 1-based line of the header (default: detected)
	Skip        bool                         `yaml:"skip"`       // ignore matching files or sheets
	RuleOptions `yaml:",inline"`

	line int // position in the mapping file, for messages
}

// LoadMapping reads and checks a mapping file.
func LoadMapping(p string) (*Mapping, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	m, err := ParseMapping(b)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", p, err)
	}
	m.Path = p
	return m, nil
}

// ParseMapping parses mapping YAML; unknown keys are errors (a typo must not
// silently do nothing).
func ParseMapping(b []byte) (*Mapping, error) {
	var root yaml.Node
	m := &Mapping{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(m); err != nil {
		if errors.Is(err, errEOF) || strings.Contains(err.Error(), "EOF") {
			return nil, errors.New("the mapping file is empty")
		}
		return nil, err
	}
	// An empty list item ("files:\n  -") decodes as a nil rule (it made
	// ParseMapping panic: found by FuzzParseMapping).
	for key, rules := range map[string][]*Rule{"files": m.Files, "tables": m.Tables} {
		for i, r := range rules {
			if r == nil {
				return nil, fmt.Errorf("%s: entry %d is empty", key, i+1)
			}
		}
	}
	if err := yaml.Unmarshal(b, &root); err == nil && len(root.Content) > 0 {
		setRuleLines(root.Content[0], "files", m.Files)
		setRuleLines(root.Content[0], "tables", m.Tables)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

var errEOF = errors.New("EOF")

func setRuleLines(doc *yaml.Node, key string, rules []*Rule) {
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == key {
			for j, n := range doc.Content[i+1].Content {
				if j < len(rules) {
					rules[j].line = n.Line
				}
			}
		}
	}
}

func (r *Rule) where() string {
	if r.line > 0 {
		return fmt.Sprintf("rule at line %d", r.line)
	}
	return "rule"
}

func (m *Mapping) check() error {
	var errs []error
	if err := m.RuleOptions.check(); err != nil {
		errs = append(errs, err)
	}
	for _, r := range m.Files {
		if r.Match == "" && r.Sheet == "" {
			errs = append(errs, fmt.Errorf("%s: give match (a file name pattern) or sheet (a sheet name pattern)", r.where()))
		}
		if r.Table != "" || r.Query != "" || r.Watermark != "" {
			errs = append(errs, fmt.Errorf("%s: table, query and watermark belong under tables:, not files:", r.where()))
		}
		errs = append(errs, r.check()...)
	}
	for _, r := range m.Tables {
		if r.Entity == "" {
			errs = append(errs, fmt.Errorf("%s: a table rule needs entity", r.where()))
		}
		if (r.Table == "") == (r.Query == "") {
			errs = append(errs, fmt.Errorf("%s: give either table or query", r.where()))
		}
		if r.Match != "" || r.Sheet != "" {
			errs = append(errs, fmt.Errorf("%s: match and sheet belong under files:, not tables:", r.where()))
		}
		errs = append(errs, r.check()...)
	}
	return errors.Join(errs...)
}

func (o *RuleOptions) check() error {
	var errs []error
	if o.Timezone != "" {
		if _, err := time.LoadLocation(o.Timezone); err != nil {
			errs = append(errs, fmt.Errorf("timezone %q is not a known time zone (use a name such as Asia/Shanghai or UTC)", o.Timezone))
		}
	}
	switch strings.ToUpper(o.DateOrder) {
	case "", "DMY", "MDY", "YMD":
	default:
		errs = append(errs, fmt.Errorf("date_order %q: use DMY (05/01/2024 = 5 January) or MDY (= May 1)", o.DateOrder))
	}
	for _, f := range o.DateFormats {
		if _, err := strftimeToGo(f); err != nil {
			errs = append(errs, err)
		}
	}
	if o.Encoding != "" {
		if _, err := csv.LookupEncoding(o.Encoding); err != nil {
			errs = append(errs, err)
		}
	}
	if len([]rune(o.Delimiter)) > 1 && o.Delimiter != `\t` {
		errs = append(errs, fmt.Errorf("delimiter %q: one character (or \\t)", o.Delimiter))
	} else if d := []rune(o.Delimiter); len(d) == 1 && (d[0] == '"' || d[0] == '\r' || d[0] == '\n' || d[0] == utf8.RuneError) {
		// The CSV reader refuses them; say so here, with the rule's line
		// (found by FuzzParseMapping).
		errs = append(errs, fmt.Errorf("delimiter %q: a quote, a line break or an invalid character cannot separate fields", o.Delimiter))
	}
	switch o.Mode {
	case "", "incremental", "snapshot":
	default:
		errs = append(errs, fmt.Errorf("mode %q: use incremental (rows absent from the file are kept) or snapshot (they are marked deleted)", o.Mode))
	}
	return errors.Join(errs...)
}

func (r *Rule) check() []error {
	var errs []error
	if err := r.RuleOptions.check(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", r.where(), err))
	}
	if r.Skip {
		return errs
	}
	if r.Entity == "" {
		if len(r.Columns)+len(r.Values)+len(r.Defaults)+len(r.Fractions) > 0 {
			errs = append(errs, fmt.Errorf("%s: columns, values, defaults and percent_as_fraction need the rule's entity", r.where()))
		}
		return errs
	}
	ent, err := EntityByName(r.Entity)
	if err != nil {
		return append(errs, fmt.Errorf("%s: %w", r.where(), err))
	}
	known := func(what, c string) {
		if _, ok := ent.Column(c); !ok {
			errs = append(errs, fmt.Errorf("%s: %s %q is not a column of %s (columns: %s)", r.where(), what, c, ent.Name, strings.Join(ent.ColumnNames(), ", ")))
		}
	}
	targets := map[string]string{}
	for src, c := range r.Columns {
		known("columns: "+src+" →", c)
		if prev, dup := targets[c]; dup {
			errs = append(errs, fmt.Errorf("%s: both %q and %q map to %s", r.where(), prev, src, c))
		}
		targets[c] = src
	}
	for c, vm := range r.Values {
		known("values:", c)
		col, _ := ent.Column(c)
		if len(col.Enum) > 0 {
			for src, v := range vm {
				if !slices.Contains(col.Enum, strings.ToLower(v)) {
					errs = append(errs, fmt.Errorf("%s: values of %s: %q → %q, but %s must be one of %s", r.where(), c, src, v, c, strings.Join(col.Enum, ", ")))
				}
			}
		}
	}
	for c := range r.Defaults {
		known("defaults:", c)
	}
	for _, c := range r.Fractions {
		known("percent_as_fraction:", c)
		if col, ok := ent.Column(c); ok && !col.Percent {
			errs = append(errs, fmt.Errorf("%s: percent_as_fraction: %s is not a percentage column", r.where(), c))
		}
	}
	return errs
}

// ruleFor finds the first files rule matching a file (and sheet, for XLSX).
func (m *Mapping) ruleFor(file, sheet string) *Rule {
	if m == nil {
		return nil
	}
	base := strings.ToLower(path.Base(strings.ReplaceAll(file, `\`, "/")))
	for _, r := range m.Files {
		if r.Match != "" {
			if ok, _ := path.Match(strings.ToLower(r.Match), base); !ok {
				continue
			}
		}
		if r.Sheet != "" {
			if sheet == "" {
				continue
			}
			if ok, _ := path.Match(strings.ToLower(r.Sheet), strings.ToLower(sheet)); !ok {
				continue
			}
		}
		return r
	}
	return nil
}

// settings are the effective options of one source: the mapping's top level,
// overridden by the matching rule, overridden by command-line options.
type settings struct {
	rule      *Rule
	columns   map[string]string // canonical source header → contract column
	values    map[string]map[string]string
	defaults  map[string]string
	fractions []string
	headerRow int
	opts      valueOpts
	encoding  string
	delimiter rune
	mode      string
}

func (m *Mapping) settingsFor(r *Rule, ent *Entity, o Options) (*settings, error) {
	s := &settings{rule: r, columns: map[string]string{}, values: map[string]map[string]string{}, defaults: map[string]string{}, delimiter: ','}
	var layers []RuleOptions
	if m != nil {
		layers = append(layers, m.RuleOptions)
	}
	if r != nil {
		layers = append(layers, r.RuleOptions)
		for src, c := range r.Columns {
			s.columns[canonHeader(src)] = c
		}
		for c, vm := range r.Values {
			s.values[c] = map[string]string{}
			for k, v := range vm {
				// Trimmed: staged text is canonical (trimmed, see typedExpr).
				s.values[c][normLower(k)] = strings.TrimSpace(strings.ToLower(v))
			}
		}
		for c, v := range r.Defaults {
			s.defaults[c] = v
		}
		s.fractions = r.Fractions
		s.headerRow = r.HeaderRow
	}
	for _, l := range layers {
		if l.Timezone != "" {
			loc, err := time.LoadLocation(l.Timezone)
			if err != nil {
				return nil, err
			}
			s.opts.loc = loc
		}
		if l.DateOrder != "" {
			s.opts.dateOrder = strings.ToUpper(l.DateOrder)
		}
		for _, f := range l.DateFormats {
			g, err := strftimeToGo(f)
			if err != nil {
				return nil, err
			}
			s.opts.layouts = append(s.opts.layouts, g)
		}
		if l.DecimalComma != nil {
			s.opts.decimalComma = *l.DecimalComma
		}
		if l.Encoding != "" {
			s.encoding = l.Encoding
		}
		if l.Delimiter != "" {
			s.delimiter = []rune(strings.ReplaceAll(l.Delimiter, `\t`, "\t"))[0]
		}
		if l.Mode != "" {
			s.mode = l.Mode
		}
	}
	if s.opts.dateOrder == "YMD" {
		s.opts.dateOrder = ""
	}
	if o.Encoding != "" {
		s.encoding = o.Encoding
	}
	if s.encoding != "" {
		enc, err := csv.LookupEncoding(s.encoding)
		if err != nil {
			return nil, err
		}
		s.encoding = enc
	}
	if slices.Contains(o.Snapshot, ent.Name) || slices.Contains(o.Snapshot, "all") {
		s.mode = "snapshot"
	}
	if s.mode == "" {
		s.mode = "incremental"
	}
	return s, nil
}
