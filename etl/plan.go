package etl

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/triscope/triscope/etl/xlsx"
)

// ColumnMapping says where a contract column's values come from.
type ColumnMapping struct {
	Column string // contract column
	Source string // source header (or the constant, for a default)
	How    string // name, alias, mapping, default
}

// colPlan is how one contract column is filled from a source row.
type colPlan struct {
	col      Column
	src      int // index in the source row; -1 when absent
	header   string
	how      string
	constant any // for an absent column with a default value
	conv     func(string) (string, problem)
	noun     string // "amounts", "dates": for drift messages
	excel    bool   // values come from XLSX cells
	// memo: the values converted so far, for the columns whose few distinct
	// values repeat row after row (the date cells of a workbook, serials
	// such as 45296): converting each once saves most of their cost.
	memo map[string]any

	nonEmpty, failed int64
	examples         []string
	pctMax           float64
	pctN             int64
}

// headerScore counts the distinct contract columns a candidate header names.
func headerScore(ent *Entity, set *settings, row []string) int {
	seen := map[string]bool{}
	for _, h := range row {
		if c, _ := matchHeader(ent, set, canonHeader(h)); c != "" {
			seen[c] = true
		}
	}
	return len(seen)
}

// matchHeader finds the contract column of a canonical source header and the
// strength of the match (3 mapping, 2 exact name, 1 alias; 0 is a
// resemblance, found by planColumns for headers that match nothing).
func matchHeader(ent *Entity, set *settings, h string) (string, int) {
	if h == "" {
		return "", 0
	}
	if set != nil {
		if c, ok := set.columns[h]; ok {
			return c, 3
		}
	}
	for _, c := range ent.Columns {
		if h == c.Name {
			return c.Name, 2
		}
	}
	for _, c := range ent.Columns {
		if slices.Contains(c.Aliases, h) {
			return c.Name, 1
		}
	}
	return "", 0
}

var howNames = map[int]string{0: "similar", 1: "alias", 2: "name", 3: "mapping"}

// planColumns matches a header to the entity's columns, and fails when a
// required column is missing.
func planColumns(ent *Entity, header []string, set *settings) (plan []*colPlan, extra []string, warnings []string, err error) {
	if set == nil {
		set = &settings{}
	}
	if plan, extra, warnings, err = matchColumns(ent, header, set); err != nil {
		return nil, nil, nil, err
	}
	if err := requireColumns(plan, header, set); err != nil {
		return nil, nil, nil, err
	}
	return plan, extra, warnings, nil
}

// matchColumns matches a header to the entity's columns: by mapping, name,
// alias and resemblance, then the mapping's defaults for absent columns.
func matchColumns(ent *Entity, header []string, set *settings) (plan []*colPlan, extra []string, warnings []string, err error) {
	if set == nil {
		set = &settings{}
	}
	type cand struct {
		idx, strength int
	}
	best := map[string][]cand{}
	seen := map[string]int{}
	var unmatched []int
	for j, h := range header {
		ch := canonHeader(h)
		if ch == "" || ch == "_load_id" || ch == "_deleted_at" {
			continue
		}
		c, strength := matchHeader(ent, set, ch)
		if prev, dup := seen[ch]; dup {
			if c != "" {
				return nil, nil, nil, fmt.Errorf("column %d %q repeats column %d; every column name must be unique", j+1, h, prev+1)
			}
			warnings = append(warnings, fmt.Sprintf("column %d %q repeats column %d; both were ignored", j+1, h, prev+1))
			continue
		}
		seen[ch] = j
		if c == "" {
			unmatched = append(unmatched, j)
			continue
		}
		best[c] = append(best[c], cand{j, strength})
	}
	// Headers that match nothing are read as the column they clearly resemble
	// (similar.go); the rest are extra.
	open := map[string]bool{}
	for _, c := range ent.Columns {
		if _, def := set.defaults[c.Name]; len(best[c.Name]) == 0 && !def {
			open[c.Name] = true
		}
	}
	taken := map[int]bool{}
	for _, m := range matchSimilar(ent, header, unmatched, open) {
		best[m.column] = append(best[m.column], cand{m.idx, 0})
		taken[m.idx] = true
		warnings = append(warnings, fmt.Sprintf("column %d %q was read as %s: it resembles %q (%.0f%% alike); if that is wrong, say what it is in the mapping (columns: {%q: …})",
			m.idx+1, header[m.idx], m.column, m.like, 100*m.score, header[m.idx]))
	}
	for _, j := range unmatched {
		if !taken[j] {
			extra = append(extra, header[j])
		}
	}
	for _, c := range ent.Columns {
		p := &colPlan{col: c, src: -1}
		if cs := best[c.Name]; len(cs) > 0 {
			slices.SortStableFunc(cs, func(a, b cand) int { return b.strength - a.strength })
			if len(cs) > 1 && cs[0].strength == cs[1].strength {
				return nil, nil, nil, fmt.Errorf("columns %d %q and %d %q both match %s; say which one in the mapping (columns: {%q: %s})",
					cs[0].idx+1, header[cs[0].idx], cs[1].idx+1, header[cs[1].idx], c.Name, header[cs[1].idx], c.Name)
			}
			p.src, p.header, p.how = cs[0].idx, header[cs[0].idx], howNames[cs[0].strength]
			for _, other := range cs[1:] {
				warnings = append(warnings, fmt.Sprintf("column %q also matches %s; column %q was used", header[other.idx], c.Name, p.header))
				extra = append(extra, header[other.idx])
			}
		}
		plan = append(plan, p)
	}
	// Defaults for absent columns.
	for _, p := range plan {
		if v, ok := set.defaults[p.col.Name]; ok && p.src < 0 {
			p.how, p.header = "default", v
		}
	}
	return plan, extra, warnings, nil
}

// requireColumns fails, naming what it looked for and the closest headers,
// when a required column has no source and no default.
func requireColumns(plan []*colPlan, header []string, set *settings) error {
	for _, p := range plan {
		if p.src < 0 && p.how != "default" && p.col.Required {
			tried := append([]string{p.col.Name}, p.col.Aliases...)
			for src, c := range set.columns {
				if c == p.col.Name {
					tried = append(tried, src+" (mapping)")
				}
			}
			msg := fmt.Sprintf("required column %s is missing (looked for: %s)", p.col.Name, strings.Join(tried, ", "))
			used := map[int]bool{}
			for _, q := range plan {
				if q.src >= 0 {
					used[q.src] = true
				}
			}
			if near := closestHeaders(p.col, header, func(j int) bool { return used[j] }); len(near) > 0 {
				msg += fmt.Sprintf("; the closest headers in the file: %s", strings.Join(near, ", "))
			}
			msg += "; triscope load --suggest-mapping FILE writes a mapping to start from"

			if len(header) == 1 && strings.ContainsAny(header[0], ";\t|") {
				msg += fmt.Sprintf("; the header %q is one column: is the file delimited by something other than commas? set delimiter in the mapping", header[0])
			}
			for _, h := range header {
				if strings.Contains(h, "万元") {
					msg += fmt.Sprintf("; column %q is in 万元 (10,000 yuan), which is not converted: export amounts in 元", h)
				}
			}
			return errors.New(msg)
		}
	}
	return nil
}

// mapHeader matches source column names to the entity's columns and returns,
// for each entity column, the index of the source column (-1 when absent).
func mapHeader(ent *Entity, header []string, set *settings) (idx []int, extra []string, err error) {
	plan, extra, _, err := planColumns(ent, header, set)
	if err != nil {
		return nil, nil, err
	}
	idx = make([]int, len(plan))
	for i, p := range plan {
		idx[i] = p.src
	}
	return idx, extra, nil
}

// build makes the planned column's value parser. The values of a typed
// source (Parquet) are the text of typed values already: only value maps
// apply, and the warehouse's casts type them.
func (p *colPlan) build(ent *Entity, set *settings, fractionCols map[string]bool, typed bool) error {
	c := p.col
	o := set.opts
	p.excel = o.excel
	if typed {
		m := map[string]string{}
		maps.Copy(m, c.Values)
		maps.Copy(m, set.values[c.Name])
		p.conv = func(s string) (string, problem) {
			if v, ok := m[strings.ToLower(strings.Trim(s, " "))]; ok {
				return v, ""
			}
			return s, ""
		}
		return nil
	}
	switch c.Kind {
	case Text:
		switch {
		case len(c.Enum) > 0:
			own := set.values[c.Name]
			p.conv = func(s string) (string, problem) {
				v := normLower(s)
				if m, ok := own[v]; ok {
					return m, ""
				}
				if m, ok := c.Values[v]; ok {
					return m, ""
				}
				return v, ""
			}
		case c.Name == "currency":
			p.conv = func(s string) (string, problem) {
				if len(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z' && s != "RMB" {
					return s, "" // an ISO code already (RMB is the one common alias of this shape)
				}
				v := normKey(s)
				if m, ok := currencyWords[strings.ToLower(v)]; ok {
					return m, ""
				}
				if !validUTF8Key(v) {
					return "", "holds characters that could not be decoded"
				}
				return strings.ToUpper(v), ""
			}
		case ent.keyLike(c):
			own := set.values[c.Name]
			p.conv = func(s string) (string, problem) {
				if len(own) == 0 && isASCIIPrint(s) {
					return strings.TrimSpace(s), ""
				}
				v := normKey(s)
				if m, ok := own[strings.ToLower(v)]; ok {
					return m, ""
				}
				if !validUTF8Key(v) {
					return "", "holds characters that could not be decoded (U+FFFD): a key must be exact"
				}
				if hasControl(v) {
					return "", "holds control characters: a key must be printable text"
				}
				return v, ""
			}
		default:
			own := set.values[c.Name]
			p.conv = func(s string) (string, problem) {
				v := strings.TrimSpace(s)
				if len(own) > 0 {
					if m, ok := own[normLower(v)]; ok {
						return m, ""
					}
				}
				return v, ""
			}
		}
	case Date:
		p.noun = "dates"
		p.conv = func(s string) (string, problem) { return parseDate(s, &o) }
		if o.excel {
			p.memo = map[string]any{}
		}
	case Timestamp:
		p.noun = "timestamps"
		p.conv = func(s string) (string, problem) { return parseTimestamp(s, &o) }
	case Money:
		p.noun = "amounts"
		p.conv = func(s string) (string, problem) {
			v, pr := parseNumber(s, 2, 16, false, &o)
			if pr == "not a number" {
				return "", "not an amount (expected digits with up to 2 decimals such as 1234.56, 1,234.56, ¥1,234.56 or (50))"
			}
			if pr != "" {
				return "", "not an amount: " + pr
			}
			return v, ""
		}
	case Decimal, Integer:
		prec, scale := 18, 4
		if c.Kind == Integer {
			prec, scale = 9, 0
		}
		if c.SQLType != "" {
			fmt.Sscanf(c.SQLType, "DECIMAL(%d,%d)", &prec, &scale)
		}
		po := o
		po.fraction = fractionCols[c.Name]
		p.noun = "numbers"
		if c.Kind == Integer {
			p.noun = "whole numbers"
		}
		p.conv = func(s string) (string, problem) {
			maxInt := prec - scale
			if c.Percent {
				maxInt = 16 // out of range is checked below, with a clearer message
			}
			v, pr := parseNumber(s, scale, maxInt, c.Percent, &po)
			if pr != "" {
				if pr == "not a number" && c.Kind == Integer {
					return "", "not a whole number"
				}
				if strings.HasPrefix(string(pr), "not ") || strings.HasSuffix(string(pr), "whole number") {
					return "", pr
				}
				return "", "not a number: " + pr
			}
			if c.Percent {
				f, _ := strconv.ParseFloat(v, 64)
				if f < 0 || f > 100 {
					if po.fraction {
						return "", problem(fmt.Sprintf("must be a percentage between 0 and 100 (declared as fractions, %s is %s %%)", strings.TrimSpace(s), v))
					}
					return "", "must be a percentage between 0 and 100"
				}
				if !po.fraction {
					p.pctN++
					p.pctMax = max(p.pctMax, f)
				}
			}
			return v, ""
		}
	case Boolean:
		p.noun = "true/false values"
		p.conv = func(s string) (string, problem) { return parseBool(s) }
	}
	if p.how == "default" {
		v, pr := p.conv(p.header)
		if pr != "" {
			return fmt.Errorf("the default %q for %s: %s", p.header, c.Name, pr)
		}
		p.constant = v
	}
	return nil
}

// convert parses one field, keeping the statistics the drift check needs
// (when count).
func (p *colPlan) convert(s string, count bool) (any, problem) {
	if s == "" {
		return nil, ""
	}
	if v, ok := p.memo[s]; ok {
		if p.noun != "" && count {
			p.nonEmpty++
		}
		return v, ""
	}
	if p.excel && xlsx.IsError(s) {
		return s, problem("the cell holds the Excel error " + s + " (a formula failed); fix the workbook and export again")
	}
	v, pr := p.conv(s)
	if p.noun != "" && count {
		p.nonEmpty++
		if pr != "" && strings.HasPrefix(string(pr), "not a") {
			p.failed++
			if len(p.examples) < 3 && !slices.Contains(p.examples, s) {
				p.examples = append(p.examples, s)
			}
		}
	}
	if pr != "" {
		return s, pr
	}
	if v == "" {
		return nil, ""
	}
	if p.memo != nil && len(p.memo) < maxMemo {
		a := any(v)
		p.memo[strings.Clone(s)] = a // s may hold on to the rest of its row
		return a, ""
	}
	return v, ""
}

// maxMemo bounds a column's memo: a century of days.
const maxMemo = 40000

// driftCheck fails a file whose column mostly does not parse as its type: the
// export changed the column (a number column now holds text), so loading the
// few values that happen to parse would be worse than stopping.
func driftCheck(plan []*colPlan, rows int64) error {
	if rows < 20 {
		return nil
	}
	var errs []string
	for _, p := range plan {
		if p.noun == "" || p.nonEmpty == 0 || p.failed*2 <= p.nonEmpty {
			continue
		}
		quoted := make([]string, len(p.examples))
		for i, e := range p.examples {
			quoted[i] = strconv.Quote(truncateRunes(e, 30))
		}
		errs = append(errs, fmt.Sprintf("column %s (source column %q) should hold %s but %d of its %d values do not parse (e.g. %s): has the column changed type in the export?",
			p.col.Name, p.header, p.noun, p.failed, p.nonEmpty, strings.Join(quoted, ", ")))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
