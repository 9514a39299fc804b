package reports

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/reports/schedule"
)

// Report is a report definition: what it shows (content with parameters),
// in which formats, to whom (recipients, each rendered with their own
// scope), through which configured channels, when (schedule) and on which
// condition. Reports come from YAML files in reports_dir ("reports as
// code", read-only in the UI) or from the web UI (the application
// database). The same struct is the YAML and the JSON form.
type Report struct {
	// Name is the report's slug: [a-z0-9][a-z0-9_-]*, unique; the
	// schedule, its runs and its files are keyed by it.
	Name        string `yaml:"name" json:"name"`
	Title       Text   `yaml:"title" json:"title"`
	Description Text   `yaml:"description,omitempty" json:"description,omitzero"`
	// Owner is the user the report belongs to (its author): a delivery
	// failure is reported to them, and what they may send to whom is
	// checked against their role. File reports default to the admin.
	Owner      string            `yaml:"owner,omitempty" json:"owner,omitempty"`
	Content    []Content         `yaml:"content" json:"content"`
	Params     map[string]string `yaml:"params,omitempty" json:"params,omitempty"`
	Formats    []string          `yaml:"formats" json:"formats"`
	Recipients []Recipient       `yaml:"recipients" json:"recipients"`
	// Channels are configured channel names (delivery.channels); a
	// recipient may name its own.
	Channels  []string   `yaml:"channels,omitempty" json:"channels,omitempty"`
	Schedule  Schedule   `yaml:"schedule,omitempty" json:"schedule,omitzero"`
	Condition *Condition `yaml:"condition,omitempty" json:"condition,omitempty"`
	// Portrait prints the PDF upright (default: landscape, the dashboards'
	// width).
	Portrait bool `yaml:"portrait,omitempty" json:"portrait,omitempty"`

	// Where the definition comes from (not part of the YAML).
	Source    string    `yaml:"-" json:"source,omitempty"` // "file" or "ui"
	File      string    `yaml:"-" json:"file,omitempty"`
	CreatedAt time.Time `yaml:"-" json:"created_at,omitzero"`
	UpdatedAt time.Time `yaml:"-" json:"updated_at,omitzero"`
}

// Text is a text in both languages. In YAML it is a string (both
// languages) or a map {en: …, zh-CN: …}.
type Text struct {
	EN string `yaml:"en,omitempty" json:"en,omitempty"`
	ZH string `yaml:"zh-CN,omitempty" json:"zh-CN,omitempty"`
}

// UnmarshalYAML reads a string or a map of languages.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		t.EN, t.ZH = n.Value, n.Value
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: a title's %s is a text", v.Line, k.Value)
			}
			switch k.Value {
			case "en":
				t.EN = v.Value
			case "zh-CN", "zh", "zh-cn":
				t.ZH = v.Value
			default:
				return fmt.Errorf("line %d: language %q: use en or zh-CN", k.Line, k.Value)
			}
		}
		return nil
	}
	return fmt.Errorf("line %d: a text or {en: …, zh-CN: …}", n.Line)
}

// Get is the text in lang, else in the other language.
func (t Text) Get(lang string) string {
	if lang == "zh-CN" && t.ZH != "" || t.EN == "" {
		return t.ZH
	}
	return t.EN
}

// IsZero reports whether the text is empty in both languages.
func (t Text) IsZero() bool { return t.EN == "" && t.ZH == "" }

// Content is one part of a report: exactly one of Page, Chart, Rows or Query.
type Content struct {
	// Page is a dashboard page id (telescope, magnifier, …): all its charts.
	Page string `yaml:"page,omitempty" json:"page,omitempty"`
	// Chart is one chart id (telescope.bookings).
	Chart string `yaml:"chart,omitempty" json:"chart,omitempty"`
	// Rows is a chart id whose drill-through rows are listed (the rows
	// behind Point, or behind the whole chart).
	Rows  string `yaml:"rows,omitempty" json:"rows,omitempty"`
	Point string `yaml:"point,omitempty" json:"point,omitempty"`
	// Query is a saved query of the ad hoc SQL face (its name), run as
	// each recipient: their scope, and it must be shared with them (their
	// role) or be theirs. Its parameters take the part's values ($from and
	// $to the period's days).
	Query string `yaml:"query,omitempty" json:"query,omitempty"`
	// Title replaces the page's or chart's own title.
	Title Text `yaml:"title,omitempty" json:"title,omitzero"`
	// Params override the report's parameters for this part.
	Params map[string]string `yaml:"params,omitempty" json:"params,omitempty"`
	// Limit bounds the rows a PDF or an HTML body lists (default 2,000 in
	// a PDF, 20 in a mail); XLSX, CSV and Parquet carry every row.
	Limit int `yaml:"limit,omitempty" json:"limit,omitempty"`
}

// Recipient is who gets the report: a user, every user with a role,
// every user whose scope lies under an org unit (optionally with a role),
// or an external address (or robot group) bound to a named scope.
type Recipient struct {
	User    string `yaml:"user,omitempty" json:"user,omitempty"`
	Role    string `yaml:"role,omitempty" json:"role,omitempty"`
	OrgUnit string `yaml:"org_unit,omitempty" json:"org_unit,omitempty"`
	// An external recipient: an address or a name (a robot group), with
	// the scope its copy is rendered in: a named scope of the
	// configuration (reports.scopes) or all, org:<unit>, rep:<rep>.
	Email    string   `yaml:"email,omitempty" json:"email,omitempty"`
	Name     string   `yaml:"name,omitempty" json:"name,omitempty"`
	Scope    string   `yaml:"scope,omitempty" json:"scope,omitempty"`
	Lang     string   `yaml:"lang,omitempty" json:"lang,omitempty"`
	WeComID  string   `yaml:"wecom_userid,omitempty" json:"wecom_userid,omitempty"`
	DingID   string   `yaml:"dingtalk_userid,omitempty" json:"dingtalk_userid,omitempty"`
	Mobile   string   `yaml:"mobile,omitempty" json:"mobile,omitempty"`
	Channels []string `yaml:"channels,omitempty" json:"channels,omitempty"`
}

// External reports whether the recipient is an address or group, not users.
func (r Recipient) External() bool { return r.User == "" && r.Role == "" && r.OrgUnit == "" }

// Schedule says when the report runs (see reports/schedule): a cron
// expression in a time zone, after every load, once; the missed-fire-time
// and crash policies. Empty: only when someone runs it.
type Schedule struct {
	Cron      string    `yaml:"cron,omitempty" json:"cron,omitempty"`
	TimeZone  string    `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	AfterLoad bool      `yaml:"after_load,omitempty" json:"after_load,omitempty"`
	Once      time.Time `yaml:"once,omitempty" json:"once,omitzero"`
	Missed    string    `yaml:"missed,omitempty" json:"missed,omitempty"`
	OnCrash   string    `yaml:"on_crash,omitempty" json:"on_crash,omitempty"`
}

// IsZero reports whether the report has no trigger.
func (s Schedule) IsZero() bool { return s.Cron == "" && !s.AfterLoad && s.Once.IsZero() }

// never is the one-off time of a report without a trigger: the scheduler
// knows it (run now and crash recovery work as for the others) and it
// never comes.
var never = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)

// Plan is the report's schedule for reports/schedule.
func (r *Report) Plan() schedule.Schedule {
	s := schedule.Schedule{ID: r.Name, Cron: r.Schedule.Cron, TimeZone: r.Schedule.TimeZone, AfterLoad: r.Schedule.AfterLoad,
		Once: r.Schedule.Once, Missed: schedule.MissedPolicy(r.Schedule.Missed), OnCrash: schedule.CrashPolicy(r.Schedule.OnCrash)}
	if r.Schedule.IsZero() {
		s.Once = never
	}
	return s
}

// Condition decides, for each recipient in their own scope, whether the
// report is sent: a KPI tile compared with a value, or rows behind a chart
// (optionally filtered) that exist; only when it changed since the last
// copy sent, not within a cooldown after it.
type Condition struct {
	// A KPI: Chart (a KPI chart) and KPI (a tile's key); Field is value
	// (default), target, compare or progress (value / target).
	Chart string  `yaml:"chart,omitempty" json:"chart,omitempty"`
	KPI   string  `yaml:"kpi,omitempty" json:"kpi,omitempty"`
	Field string  `yaml:"field,omitempty" json:"field,omitempty"`
	Op    string  `yaml:"op,omitempty" json:"op,omitempty"` // < <= > >= = !=
	Value float64 `yaml:"value,omitempty" json:"value,omitempty"`
	// Rows: the rows behind a chart (point, params) that pass Where; the
	// condition holds when there are at least MinRows (default 1), or,
	// with New, at least one row whose key was not in the last copy sent.
	Rows    string            `yaml:"rows,omitempty" json:"rows,omitempty"`
	Point   string            `yaml:"point,omitempty" json:"point,omitempty"`
	Params  map[string]string `yaml:"params,omitempty" json:"params,omitempty"`
	Where   []Filter          `yaml:"where,omitempty" json:"where,omitempty"`
	MinRows int               `yaml:"min_rows,omitempty" json:"min_rows,omitempty"`
	New     bool              `yaml:"new,omitempty" json:"new,omitempty"`
	// OnlyWhenChanged sends only when the content's data differs from the
	// last copy sent to that recipient.
	OnlyWhenChanged bool `yaml:"only_when_changed,omitempty" json:"only_when_changed,omitempty"`
	// Cooldown is the least time between two copies to one recipient
	// ("24h", "7d").
	Cooldown string `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
}

// Filter keeps rows whose column compares with a value (numbers as
// numbers, the rest as text).
type Filter struct {
	Column string `yaml:"column" json:"column"`
	Op     string `yaml:"op" json:"op"`
	Value  any    `yaml:"value" json:"value"`
}

// Formats a report can be rendered in.
var Formats = []string{"pdf", "xlsx", "csv", "html", "parquet"}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	ops    = []string{"<", "<=", ">", ">=", "=", "!="}
	// The filters every page understands; a page adds its controls.
	globalParams = []string{"period", "from", "to", "cmp", "org", "pl", "cur"}
)

// ParseCooldown reads a cooldown: a Go duration or a number of days ("7d").
func ParseCooldown(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && n >= 0 && fmt.Sprint(n) == d {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 0 {
		return 0, fmt.Errorf("cooldown %q: use a duration like 12h or a number of days like 7d", s)
	}
	return dur, nil
}

// Problem is a validation error at a path of the definition
// (content[1].chart); the YAML loader turns the path into a line.
type Problem struct {
	Path []any // field names and sequence indices
	Msg  string
}

func (p Problem) Error() string { return pathString(p.Path) + ": " + p.Msg }

func pathString(path []any) string {
	var b strings.Builder
	for _, el := range path {
		switch v := el.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// Env is what validation checks a definition against: the configured
// channels and named scopes.
type Env struct {
	Channels []string          // configured delivery channels
	Scopes   map[string]string // named scopes: name → all | org:<unit> | rep:<rep>
}

// Validate checks a definition; every problem is listed.
func (r *Report) Validate(env Env) []Problem {
	var ps []Problem
	bad := func(msg string, path ...any) { ps = append(ps, Problem{Path: path, Msg: msg}) }
	if !nameRE.MatchString(r.Name) {
		bad(fmt.Sprintf("name %q: use 1-64 lowercase letters, digits, '-' and '_', starting with a letter or digit", r.Name), "name")
	}
	if r.Title.IsZero() {
		bad("a title is required (a text, or {en: …, zh-CN: …})", "title")
	}
	if len(r.Content) == 0 {
		bad("content is empty: list pages, charts or rows", "content")
	}
	for i, c := range r.Content {
		ps = append(ps, validateContent(c, "content", i)...)
	}
	ps = append(ps, validateParams(r.Params, nil, "params")...)
	if len(r.Formats) == 0 {
		bad("formats is empty: pick from "+strings.Join(Formats, ", "), "formats")
	}
	seen := map[string]bool{}
	for i, f := range r.Formats {
		if !slices.Contains(Formats, f) {
			bad(fmt.Sprintf("format %q: use %s", f, strings.Join(Formats, ", ")), "formats", i)
		}
		if seen[f] {
			bad(fmt.Sprintf("format %q is listed twice", f), "formats", i)
		}
		seen[f] = true
	}
	for i, ch := range r.Channels {
		if !slices.Contains(env.Channels, ch) {
			bad(channelMsg(ch, env.Channels), "channels", i)
		}
	}
	if len(r.Recipients) == 0 {
		bad("recipients is empty", "recipients")
	}
	for i, rc := range r.Recipients {
		ps = append(ps, validateRecipient(rc, env, len(r.Channels) > 0, i)...)
	}
	if !r.Schedule.IsZero() {
		if err := r.Plan().Validate(); err != nil {
			at := []any{"schedule"}
			if r.Schedule.Cron != "" && strings.Contains(err.Error(), "cron") {
				at = append(at, "cron")
			}
			bad(strings.TrimPrefix(strings.TrimPrefix(err.Error(), "schedule "+r.Name+": "), "schedule: "), at...)
		}
	} else if r.Schedule.Missed != "" || r.Schedule.OnCrash != "" || r.Schedule.TimeZone != "" {
		bad("the schedule has policies but no trigger: give cron, after_load or once", "schedule")
	}
	if c := r.Condition; c != nil {
		ps = append(ps, validateCondition(*c)...)
	}
	return ps
}

func channelMsg(ch string, have []string) string {
	if len(have) == 0 {
		return fmt.Sprintf("channel %q is not configured: no delivery channels are (an administrator adds them under delivery.channels)", ch)
	}
	return fmt.Sprintf("channel %q is not configured (configured: %s)", ch, strings.Join(have, ", "))
}

func validateContent(c Content, at string, i int) []Problem {
	var ps []Problem
	bad := func(msg string, path ...any) { ps = append(ps, Problem{Path: append([]any{at, i}, path...), Msg: msg}) }
	n := 0
	for _, s := range []string{c.Page, c.Chart, c.Rows, c.Query} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		bad("give exactly one of page, chart, rows or query")
		return ps
	}
	if c.Query != "" {
		// A saved query's parameters are its own; the period still resolves.
		for k, v := range c.Params {
			switch {
			case k == "period" && !validPeriod(v):
				bad(fmt.Sprintf("period %q: use %s, yYYYY or custom with from and to", v, strings.Join(PeriodNames(), ", ")), "params", k)
			case (k == "from" || k == "to") && !validDate(v):
				bad(fmt.Sprintf("%s %q: a date like 2026-01-31", k, v), "params", k)
			}
		}
		if c.Point != "" {
			bad("point applies to rows only", "point")
		}
		return ps
	}
	var page *query.Page
	switch {
	case c.Page != "":
		page = pageByID(c.Page)
		if page == nil || page.Placeholder {
			bad(fmt.Sprintf("page %q: no such page (pages: %s)", c.Page, strings.Join(pageIDs(), ", ")), "page")
		} else if strings.Contains(page.Path, ":") {
			bad(fmt.Sprintf("page %q is about one customer, rep or deal: pick its charts instead", c.Page), "page")
		}
	case c.Chart != "":
		if _, ok := query.ChartByID(c.Chart); !ok {
			bad(fmt.Sprintf("chart %q: no such chart%s", c.Chart, suggest(c.Chart, chartIDs())), "chart")
		} else {
			page = query.PageOfChart(c.Chart)
		}
	default:
		ch, ok := query.ChartByID(c.Rows)
		switch {
		case !ok:
			bad(fmt.Sprintf("rows %q: no such chart%s", c.Rows, suggest(c.Rows, chartIDs())), "rows")
		case ch.Drill == nil:
			bad(fmt.Sprintf("chart %q has no rows behind it (no drill-through)", c.Rows), "rows")
		default:
			page = query.PageOfChart(c.Rows)
		}
	}
	if c.Point != "" && c.Rows == "" {
		bad("point applies to rows only", "point")
	}
	if c.Limit < 0 {
		bad("limit must be positive", "limit")
	}
	ps = append(ps, validateParams(c.Params, page, at, i, "params")...)
	return ps
}

// validateParams checks parameter names: the global filters and the page's
// controls (any page's, when page is nil), and relative periods.
func validateParams(p map[string]string, page *query.Page, path ...any) []Problem {
	var ps []Problem
	known := append([]string(nil), globalParams...)
	for _, pg := range query.Pages() {
		if page != nil && pg != page {
			continue
		}
		for _, ctl := range pg.Controls {
			known = append(known, ctl.Param)
		}
	}
	for k, v := range p {
		if !slices.Contains(known, k) {
			ps = append(ps, Problem{Path: append(slices.Clone(path), k), Msg: fmt.Sprintf("unknown parameter %q (known: %s)", k, strings.Join(uniq(known), ", "))})
			continue
		}
		if k == "period" && !validPeriod(v) {
			ps = append(ps, Problem{Path: append(slices.Clone(path), k), Msg: fmt.Sprintf("period %q: use %s, yYYYY or custom with from and to", v, strings.Join(PeriodNames(), ", "))})
		}
		if (k == "from" || k == "to") && !validDate(v) {
			ps = append(ps, Problem{Path: append(slices.Clone(path), k), Msg: fmt.Sprintf("%s %q: a date like 2026-01-31", k, v)})
		}
	}
	return ps
}

func validateRecipient(rc Recipient, env Env, reportChannels bool, i int) []Problem {
	var ps []Problem
	bad := func(msg string, path ...any) {
		ps = append(ps, Problem{Path: append([]any{"recipients", i}, path...), Msg: msg})
	}
	switch {
	case rc.User != "":
		if rc.Role != "" || rc.OrgUnit != "" || rc.Email != "" || rc.Scope != "" {
			bad("a user recipient takes no role, org_unit, email or scope (their own scope applies)")
		}
	case rc.Role != "" || rc.OrgUnit != "":
		if rc.Role != "" && !slices.Contains(access.Roles, rc.Role) {
			bad(fmt.Sprintf("role %q: use %s", rc.Role, strings.Join(access.Roles, ", ")), "role")
		}
		if rc.Email != "" || rc.Scope != "" {
			bad("users found by role or org unit take no email or scope (each one's own scope applies)")
		}
	default:
		if rc.Email == "" && rc.Name == "" {
			bad("give user, role, org_unit, or an external email (or name) with a scope")
			return ps
		}
		if rc.Email != "" {
			if err := (access.Profile{Email: rc.Email}).Validate(); err != nil {
				bad(err.Error(), "email")
			}
		}
		if rc.Scope == "" {
			bad("an external recipient needs a scope: a named scope (reports.scopes) or all, org:<unit>, rep:<rep>", "scope")
		} else if _, err := ParseScope(rc.Scope, env.Scopes); err != nil {
			bad(err.Error(), "scope")
		}
		if rc.Lang != "" && rc.Lang != "en" && rc.Lang != "zh-CN" {
			bad(fmt.Sprintf("lang %q: use en or zh-CN", rc.Lang), "lang")
		}
		if err := (access.Profile{WeComUserID: rc.WeComID, DingTalkUserID: rc.DingID, Mobile: rc.Mobile}).Validate(); err != nil {
			bad(err.Error())
		}
	}
	for j, ch := range rc.Channels {
		if !slices.Contains(env.Channels, ch) {
			bad(channelMsg(ch, env.Channels), "channels", j)
		}
	}
	if !reportChannels && len(rc.Channels) == 0 {
		bad("no channel: give the report's channels or this recipient's", "channels")
	}
	return ps
}

func validateCondition(c Condition) []Problem {
	var ps []Problem
	bad := func(msg string, path ...any) {
		ps = append(ps, Problem{Path: append([]any{"condition"}, path...), Msg: msg})
	}
	if (c.Chart != "") == (c.Rows != "") && !(c.Chart == "" && c.Rows == "" && (c.OnlyWhenChanged || c.Cooldown != "")) {
		bad("give chart (a KPI) or rows, or only only_when_changed / cooldown")
	}
	if c.Chart != "" {
		ch, ok := query.ChartByID(c.Chart)
		switch {
		case !ok:
			bad(fmt.Sprintf("chart %q: no such chart%s", c.Chart, suggest(c.Chart, chartIDs())), "chart")
		case ch.Kind != query.KindKPI:
			bad(fmt.Sprintf("chart %q is not a KPI chart: a condition compares a KPI tile (kpi: key)", c.Chart), "chart")
		}
		if c.KPI == "" {
			bad("kpi: the key of the tile to compare (e.g. collections)", "kpi")
		}
		switch c.Field {
		case "", "value", "target", "compare", "progress":
		default:
			bad(fmt.Sprintf("field %q: use value, target, compare or progress", c.Field), "field")
		}
		if !slices.Contains(ops, c.Op) {
			bad(fmt.Sprintf("op %q: use %s", c.Op, strings.Join(ops, " ")), "op")
		}
	}
	if c.Rows != "" {
		ch, ok := query.ChartByID(c.Rows)
		switch {
		case !ok:
			bad(fmt.Sprintf("rows %q: no such chart%s", c.Rows, suggest(c.Rows, chartIDs())), "rows")
		case ch.Drill == nil:
			bad(fmt.Sprintf("chart %q has no rows behind it", c.Rows), "rows")
		}
		for j, f := range c.Where {
			if f.Column == "" {
				bad("a column is required", "where", j, "column")
			}
			if !slices.Contains(ops, f.Op) {
				bad(fmt.Sprintf("op %q: use %s", f.Op, strings.Join(ops, " ")), "where", j, "op")
			}
		}
		if c.MinRows < 0 {
			bad("min_rows must be positive", "min_rows")
		}
		ps = append(ps, validateParams(c.Params, query.PageOfChart(c.Rows), "condition", "params")...)
	} else if len(c.Where) > 0 || c.New || c.MinRows != 0 {
		bad("where, new and min_rows apply to rows")
	}
	if _, err := ParseCooldown(c.Cooldown); err != nil {
		bad(err.Error(), "cooldown")
	}
	return ps
}

// ParseScope reads a recipient's scope: a named scope, or all,
// org:<unit>, rep:<rep>.
func ParseScope(s string, named map[string]string) (access.Scope, error) {
	expr := s
	if v, ok := named[s]; ok {
		expr = v
	}
	switch {
	case expr == "all":
		return access.Scope{All: true}, nil
	case strings.HasPrefix(expr, "org:") && len(expr) > 4:
		return access.Scope{Org: expr[4:]}, nil
	case strings.HasPrefix(expr, "rep:") && len(expr) > 4:
		return access.Scope{Rep: expr[4:]}, nil
	}
	if expr != s {
		return access.Scope{}, fmt.Errorf("named scope %q is %q: want all, org:<unit> or rep:<rep>", s, expr)
	}
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	slices.Sort(names)
	return access.Scope{}, fmt.Errorf("scope %q: not a named scope (%s) nor all, org:<unit>, rep:<rep>", s, strings.Join(names, ", "))
}

func pageByID(id string) *query.Page {
	for _, p := range query.Pages() {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func pageIDs() []string {
	var out []string
	for _, p := range query.Pages() {
		if !p.Placeholder && !strings.Contains(p.Path, ":") {
			out = append(out, p.ID)
		}
	}
	return out
}

func chartIDs() []string {
	var out []string
	for _, c := range query.Charts() {
		out = append(out, c.ID)
	}
	return out
}

// suggest names the closest known id when it is close.
func suggest(s string, known []string) string {
	best, bd := "", 1<<30
	for _, k := range known {
		if d := editDistance(s, k); d < bd {
			best, bd = k, d
		}
	}
	if best != "" && bd <= 3 {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func uniq(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
