package reports

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// The subscription form: "Subscribe…" on a dashboard page opens it with the
// page's address (from=…), whose filters become the report's parameters;
// /reports/NAME/edit opens it on a report made in the UI.

// schedulePresets are the form's schedules, as cron expressions.
var schedulePresets = []string{"daily", "weekly", "monthly", "after_load", "cron", "manual"}

// formPeriods are the periods the form offers besides "as on the page".
var formPeriods = []string{"last_week", "this_week", "month_to_date", "previous_month", "quarter_to_date", "previous_quarter", "year_to_date", "last_12_months"}

type formData struct {
	R          *Report
	Edit       bool
	From       string
	Content    string
	Preset     string
	Time       string // HH:MM
	Weekday    string // 1-7 (Monday 1)
	MonthDay   string
	Cron       string
	TimeZone   string
	Period     string
	Periods    []string
	Channels   []string
	Recipients string
	Others     bool // may name recipients other than themselves
	Alerts     bool // the page is the alerts page: "new alerts only"
	Changed    bool
	NewAlerts  bool
	Cooldown   string
	Error      string
}

func (w *web) form(c *echo.Context) error {
	ctx := c.Request().Context()
	u, lang := w.user(c), w.lang(c)
	d := formData{Preset: "weekly", Time: "08:00", Weekday: "1", MonthDay: "1", TimeZone: "Asia/Shanghai", Periods: formPeriods,
		Channels: w.s.channels.Names(), Others: u.Role == access.RoleAdmin || u.Role == access.RoleManager}
	if name := c.Param("name"); name != "" {
		r, err := w.report(c)
		if err != nil {
			return err
		}
		if r.Source == "file" || !w.canManage(r, u) {
			return echo.NewHTTPError(http.StatusForbidden, i18n.T(lang, "report.form.readonly"))
		}
		d.R, d.Edit = r, true
		d.fromReport(r, lang)
	} else {
		from := c.QueryParam("from")
		page, params, err := pageOf(from)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		d.From = from
		d.R = &Report{Title: Text{EN: i18n.T("en", page.Title), ZH: i18n.T("zh-CN", page.Title)}, Content: []Content{{Page: page.ID}},
			Params: params, Formats: []string{"pdf", "html"}, Recipients: []Recipient{{User: u.Username}}}
		if len(d.Channels) > 0 {
			d.R.Channels = d.Channels[:1]
		}
		d.Content = describeContent(d.R.Content[0], lang)
		d.Recipients = "user:" + u.Username
		d.Alerts = page.ID == "alerts"
	}
	_ = ctx
	return w.page(c, i18n.T(lang, "report.form.title"), "form.html", map[string]any{"F": d})
}

// pageOf reads a dashboard page's address: the page and its filters.
func pageOf(from string) (*query.Page, map[string]string, error) {
	u, err := url.Parse(from)
	if err != nil || !strings.HasPrefix(from, "/") || strings.HasPrefix(from, "//") {
		return nil, nil, errors.New("from: the address of a dashboard page")
	}
	page, ok := query.PageByPath(u.Path)
	if !ok || page.Placeholder {
		return nil, nil, fmt.Errorf("%s is not a dashboard page one can subscribe to (a customer's, rep's or deal's page is not)", u.Path)
	}
	params := map[string]string{}
	known := slices.Clone(globalParams)
	for _, ctl := range page.Controls {
		known = append(known, ctl.Param)
	}
	for k, v := range u.Query() {
		if !slices.Contains(known, k) || len(v) == 0 || v[0] == "" {
			continue
		}
		if multiValued[k] {
			params[k] = strings.Join(v, ",")
		} else {
			params[k] = v[0]
		}
	}
	return page, params, nil
}

func (d *formData) fromReport(r *Report, lang string) {
	var content []string
	for _, c := range r.Content {
		content = append(content, describeContent(c, lang))
	}
	d.Content = strings.Join(content, "; ")
	d.Period = ""
	if p := r.Params["period"]; slices.Contains(formPeriods, p) {
		d.Period = p
	}
	s := r.Schedule
	d.TimeZone = firstNonEmpty(s.TimeZone, "Asia/Shanghai")
	switch {
	case s.AfterLoad:
		d.Preset = "after_load"
	case s.Cron == "":
		d.Preset = "manual"
	default:
		d.Preset, d.Cron = "cron", s.Cron
		var min, hour, dom, mon, dow string
		if n, _ := fmt.Sscanf(s.Cron, "%s %s %s %s %s", &min, &hour, &dom, &mon, &dow); n == 5 && mon == "*" && isNum(min) && isNum(hour) {
			d.Time = fmt.Sprintf("%02s:%02s", hour, min)
			switch {
			case dom == "*" && dow == "*":
				d.Preset = "daily"
			case dom == "*" && isNum(dow):
				d.Preset, d.Weekday = "weekly", dow
			case isNum(dom) && dow == "*":
				d.Preset, d.MonthDay = "monthly", dom
			}
		}
	}
	var lines []string
	for _, rc := range r.Recipients {
		lines = append(lines, recipientLine(rc))
	}
	d.Recipients = strings.Join(lines, "\n")
	if c := r.Condition; c != nil {
		d.Changed, d.Cooldown = c.OnlyWhenChanged, c.Cooldown
		d.NewAlerts = c.Rows == "alerts.list" && c.New
	}
	d.Alerts = len(r.Content) == 1 && r.Content[0].Page == "alerts"
}

func isNum(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func recipientLine(rc Recipient) string {
	switch {
	case rc.User != "":
		return "user:" + rc.User
	case rc.OrgUnit != "":
		return strings.TrimSpace("org:" + rc.OrgUnit + " " + rc.Role)
	case rc.Role != "":
		return "role:" + rc.Role
	}
	return strings.TrimSpace(firstNonEmpty(rc.Email, rc.Name) + " " + rc.Scope)
}

// parseRecipients reads the form's recipient lines: user:NAME, role:ROLE,
// org:UNIT [ROLE], or ADDRESS SCOPE (an external address bound to a scope).
func parseRecipients(text string) ([]Recipient, error) {
	var out []Recipient
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := fmt.Errorf("recipient line %d %q: use user:NAME, role:ROLE, org:UNIT [ROLE] or ADDRESS SCOPE", i+1, strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(f[0], "user:") && len(f) == 1:
			out = append(out, Recipient{User: f[0][5:]})
		case strings.HasPrefix(f[0], "role:") && len(f) == 1:
			out = append(out, Recipient{Role: f[0][5:]})
		case strings.HasPrefix(f[0], "org:") && len(f) <= 2:
			rc := Recipient{OrgUnit: f[0][4:]}
			if len(f) == 2 {
				rc.Role = f[1]
			}
			out = append(out, rc)
		case strings.Contains(f[0], "@") && len(f) == 2:
			out = append(out, Recipient{Email: f[0], Scope: f[1]})
		default:
			return nil, bad
		}
		if len(out) > 500 {
			return nil, errors.New("at most 500 recipient lines")
		}
	}
	return out, nil
}

// save creates or updates a report from the form.
func (w *web) save(c *echo.Context) error {
	ctx := c.Request().Context()
	u, lang := w.user(c), w.lang(c)
	form, err := c.FormValues()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	get := func(k string) string { return strings.TrimSpace(clip(form.Get(k), 500)) }
	var r *Report
	d := formData{Periods: formPeriods, Channels: w.s.channels.Names(), Others: u.Role == access.RoleAdmin || u.Role == access.RoleManager}
	if name := get("name"); name != "" {
		existing, err := w.s.Report(ctx, name)
		if err != nil || existing.Source == "file" || !w.canManage(existing, u) {
			return echo.ErrForbidden
		}
		cp := *existing
		r, d.Edit = &cp, true
	} else {
		page, params, err := pageOf(get("from"))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		r = &Report{Content: []Content{{Page: page.ID}}, Params: params}
		d.From = get("from")
		d.Alerts = page.ID == "alerts"
		all, err := w.s.Reports(ctx)
		if err != nil {
			return err
		}
		r.Name = uniqueReportName(all, "sub-"+slug(u.Username)+"-"+page.ID)
	}
	d.R = r
	title := clip(get("title"), 200)
	if title != "" {
		r.Title = Text{EN: title, ZH: title}
	}
	if r.Params == nil {
		r.Params = map[string]string{}
	}
	if p := get("period"); slices.Contains(formPeriods, p) {
		r.Params["period"] = p
		delete(r.Params, "from")
		delete(r.Params, "to")
	}
	d.Period = get("period")
	r.Formats = nil
	for _, f := range Formats {
		if form.Get("format_"+f) != "" {
			r.Formats = append(r.Formats, f)
		}
	}
	r.Channels = nil
	for _, ch := range form["channel"] {
		if slices.Contains(d.Channels, ch) {
			r.Channels = append(r.Channels, ch)
		}
	}
	d.Preset, d.Time, d.Weekday, d.MonthDay, d.Cron, d.TimeZone = get("preset"), get("time"), get("weekday"), get("monthday"), get("cron"), get("timezone")
	r.Schedule, err = scheduleFromForm(d)
	if err == nil {
		d.Recipients = clip(form.Get("recipients"), 20000)
		if d.Others {
			r.Recipients, err = parseRecipients(d.Recipients)
		} else {
			r.Recipients = []Recipient{{User: u.Username}}
		}
	}
	d.Changed, d.NewAlerts, d.Cooldown = form.Get("changed") != "", form.Get("new_alerts") != "", get("cooldown")
	r.Condition = nil
	if d.Changed || d.NewAlerts || d.Cooldown != "" {
		r.Condition = &Condition{OnlyWhenChanged: d.Changed, Cooldown: d.Cooldown}
		if d.NewAlerts {
			r.Condition.Rows, r.Condition.New = "alerts.list", true
			r.Condition.Params = map[string]string{}
			for _, k := range []string{"kind", "severity", "org"} {
				if v := r.Params[k]; v != "" {
					r.Condition.Params[k] = v
				}
			}
		}
	}
	if err == nil {
		err = w.s.Save(ctx, r, u)
	}
	if err != nil {
		if errors.Is(err, ErrForbidden) && !d.Others {
			return echo.NewHTTPError(http.StatusForbidden, err.Error())
		}
		d.Error = err.Error()
		d.Content = describeContent(r.Content[0], lang)
		withStatus(c, http.StatusUnprocessableEntity)
		return w.page(c, i18n.T(lang, "report.form.title"), "form.html", map[string]any{"F": d})
	}
	w.sh.Audit(c, "report_save", map[string]any{"report": r.Name, "recipients": len(r.Recipients), "formats": r.Formats})
	return w.back(c, r.Name, "report.msg.saved")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func uniqueReportName(all []*Report, base string) string {
	base = strings.Trim(slug(strings.ReplaceAll(base, ".", "-")), "-_.@")
	base = strings.NewReplacer("@", "-", ".", "-").Replace(base)
	if len(base) > 56 {
		base = base[:56]
	}
	taken := map[string]bool{}
	for _, r := range all {
		taken[r.Name] = true
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}

// scheduleFromForm turns the form's preset into a schedule.
func scheduleFromForm(d formData) (Schedule, error) {
	s := Schedule{TimeZone: d.TimeZone}
	var hh, mm int
	if d.Preset == "daily" || d.Preset == "weekly" || d.Preset == "monthly" {
		if n, _ := fmt.Sscanf(d.Time, "%d:%d", &hh, &mm); n != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
			return s, fmt.Errorf("time %q: HH:MM", d.Time)
		}
	}
	switch d.Preset {
	case "daily":
		s.Cron = fmt.Sprintf("%d %d * * *", mm, hh)
	case "weekly":
		if !isNum(d.Weekday) || d.Weekday > "7" || d.Weekday < "1" || len(d.Weekday) != 1 {
			return s, fmt.Errorf("weekday %q", d.Weekday)
		}
		s.Cron = fmt.Sprintf("%d %d * * %s", mm, hh, strings.Replace(d.Weekday, "7", "0", 1))
	case "monthly":
		if !isNum(d.MonthDay) || len(d.MonthDay) > 2 || d.MonthDay == "0" || d.MonthDay > "28" && len(d.MonthDay) == 2 {
			return s, fmt.Errorf("day of the month %q: 1 to 28", d.MonthDay)
		}
		s.Cron = fmt.Sprintf("%d %d %s * *", mm, hh, d.MonthDay)
	case "after_load":
		s.AfterLoad, s.TimeZone = true, ""
	case "cron":
		s.Cron = d.Cron
	case "manual":
		s.TimeZone = ""
	default:
		return s, fmt.Errorf("schedule %q: use %s", d.Preset, strings.Join(schedulePresets, ", "))
	}
	return s, nil
}

// withStatus makes the page about to be written answer code (a form sent
// back with its error: 422) whatever status the renderer writes.
func withStatus(c *echo.Context, code int) {
	c.SetResponse(statusWriter{c.Response(), code})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w statusWriter) WriteHeader(int) { w.ResponseWriter.WriteHeader(w.code) }

func (w statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
