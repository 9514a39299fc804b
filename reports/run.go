package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query/i18n"
	"github.com/triscope/triscope/render"
	"github.com/triscope/triscope/reports/deliver"
	"github.com/triscope/triscope/reports/schedule"
)

// Copy is one recipient's rendered report.
type Copy struct {
	Recipient string  `json:"recipient"`
	Display   string  `json:"display"`
	Scope     string  `json:"scope"`
	Files     []File  `json:"files"`
	Skipped   string  `json:"skipped,omitempty"` // why the condition held it back
	Seconds   float64 `json:"seconds"`

	doc  *document
	hash string
	keys []string
}

// render renders a report for one recipient into dir, in formats, after
// its condition (when check is set): a copy the condition holds back has
// Skipped set and no files.
func (s *Service) render(ctx context.Context, r *Report, p Principal, formats []string, dir, day string, check bool) (*Copy, error) {
	start := time.Now()
	cp := &Copy{Recipient: p.Key, Display: p.Display(), Scope: p.Scope.Key()}
	doc, err := s.collect(ctx, r, p, true)
	if err != nil {
		return cp, err
	}
	cp.doc = doc
	if check && r.Condition != nil {
		why, err := s.evaluate(ctx, r, p, doc, cp)
		if err != nil {
			return cp, fmt.Errorf("condition: %w", err)
		}
		if why != "" {
			cp.Skipped = why
			cp.Seconds = time.Since(start).Seconds()
			return cp, nil
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cp, err
	}
	for _, f := range formats {
		files, err := s.write(ctx, doc, p, f, dir, day)
		if err != nil {
			return cp, fmt.Errorf("%s: %w", f, err)
		}
		cp.Files = append(cp.Files, files...)
	}
	cp.Seconds = time.Since(start).Seconds()
	return cp, nil
}

// RenderAs renders a report as a user into dir and delivers nothing (the
// command line's `report run`): formats default to the report's.
func (s *Service) RenderAs(ctx context.Context, name, username string, formats []string, dir string) (*Copy, error) {
	r, err := s.Report(ctx, name)
	if err != nil {
		return nil, err
	}
	u, err := s.access.User(ctx, username)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", username, err)
	}
	prof, err := s.access.Profile(ctx, username)
	if err != nil {
		return nil, err
	}
	lang := firstNonEmpty(prof.Lang, s.cfg.Lang)
	p := Principal{Key: u.Username, User: u, Scope: access.ScopeFor(u), Lang: lang, Name: firstNonEmpty(u.Name, u.Username), Email: prof.Email}
	return s.renderFor(ctx, r, p, formats, dir)
}

// Preview renders a report for one of its recipients (the first when key
// is empty) without sending anything; the condition is evaluated and
// reported, not applied.
func (s *Service) Preview(ctx context.Context, name, key string, formats []string, dir string) (*Copy, error) {
	r, err := s.Report(ctx, name)
	if err != nil {
		return nil, err
	}
	ps, _, err := s.Resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if key == "" || p.Key == key {
			cp, err := s.renderFor(ctx, r, p, formats, dir)
			if err == nil && r.Condition != nil {
				if why, err := s.evaluate(ctx, r, p, cp.doc, &Copy{}); err == nil && why != "" {
					cp.Skipped = why
				}
			}
			return cp, err
		}
	}
	if key == "" {
		return nil, fmt.Errorf("report %s has no recipient", name)
	}
	return nil, fmt.Errorf("%s is not a recipient of report %s", key, name)
}

func (s *Service) renderFor(ctx context.Context, r *Report, p Principal, formats []string, dir string) (*Copy, error) {
	if len(formats) == 0 {
		formats = r.Formats
	}
	for _, f := range formats {
		if !slices.Contains(Formats, f) {
			return nil, fmt.Errorf("format %q: use %s", f, strings.Join(Formats, ", "))
		}
	}
	return s.render(ctx, r, p, formats, dir, s.now().In(s.engine.Location()).Format(time.DateOnly), false)
}

// Send runs a report now for all its recipients and delivers it (`report
// send`, "run now"): through the scheduler when it runs (serve), else in
// this process. The run is claimed in the ledger like a scheduled one.
func (s *Service) Send(ctx context.Context, name, by string) (schedule.Run, error) {
	r, err := s.Report(ctx, name)
	if err != nil {
		return schedule.Run{}, err
	}
	s.mu.RLock()
	started := s.started
	s.mu.RUnlock()
	if started {
		if err := s.syncSchedules(ctx); err != nil {
			return schedule.Run{}, err
		}
		return s.sched.RunNow(ctx, name, by)
	}
	now := s.now()
	note := "run now"
	if by != "" {
		note += " by " + by
	}
	run, err := s.ledger.Claim(ctx, schedule.Claim{ScheduleID: r.Name, FireTime: now.Truncate(time.Second), Trigger: schedule.TriggerManual,
		Owner: "cli", Note: note, At: now})
	if err != nil {
		return run, err
	}
	if err := s.ledger.Start(ctx, run.ID, s.now()); err != nil {
		return run, err
	}
	runErr := s.runScheduled(ctx, run)
	if err := s.ledger.Finish(context.WithoutCancel(ctx), run.ID, runErr, s.now()); err != nil {
		return run, errors.Join(runErr, err)
	}
	run, err = s.ledger.Run(ctx, run.ID)
	if err != nil {
		return run, err
	}
	return run, runErr
}

// runScheduled is the scheduler's runner: one claimed run of a report,
// burst to every recipient. A resumed run sends only what the ledger does
// not have as sent.
func (s *Service) runScheduled(ctx context.Context, run schedule.Run) error {
	r, err := s.Report(ctx, run.ScheduleID)
	if err != nil {
		return err
	}
	principals, notes, err := s.Resolve(ctx, r)
	if err != nil {
		return err
	}
	if len(notes) > 0 {
		if err := s.ledger.AddNote(ctx, run.ID, strings.Join(notes, "; ")); err != nil {
			return err
		}
	}
	if len(principals) == 0 {
		return errors.New("no recipient: " + strings.Join(notes, "; "))
	}
	done, err := s.ledger.Deliveries(ctx, run.ID)
	if err != nil {
		return err
	}
	sent := map[string]bool{}
	for _, d := range done {
		if d.Status == schedule.DeliverySent {
			sent[d.Recipient+"\x00"+d.Channel] = true
		}
	}
	day := run.FireTime.In(s.engine.Location()).Format(time.DateOnly)
	if run.FireTime.Equal(never) {
		day = s.now().In(s.engine.Location()).Format(time.DateOnly)
	}
	var mu sync.Mutex
	var failures []string
	sem := make(chan struct{}, s.cfg.Burst)
	var wg sync.WaitGroup
	for _, p := range principals {
		pending := false
		for _, ch := range p.Channels {
			if !sent[p.Key+"\x00"+ch] {
				pending = true
			}
		}
		if !pending {
			continue // every copy of this recipient went out before a crash
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(p Principal) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.burstOne(ctx, r, run, p, day, sent); err != nil {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%s: %v", p.Display(), err))
				mu.Unlock()
			}
		}(p)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(failures) > 0 {
		slices.Sort(failures)
		err := fmt.Errorf("%d of %d recipients failed: %s", len(failures), len(principals), strings.Join(failures, "; "))
		s.notifyOwner(context.WithoutCancel(ctx), r, run, err)
		return err
	}
	return nil
}

// burstOne renders and delivers one recipient's copy of a run.
func (s *Service) burstOne(ctx context.Context, r *Report, run schedule.Run, p Principal, day string, sent map[string]bool) error {
	dir := filepath.Join(s.cfg.FilesDir, safeDir(run.ID), safeDir(p.Key))
	s.recordRecipient(ctx, run, r, p, "rendering", "", false)
	cp, err := s.render(ctx, r, p, r.Formats, dir, day, true)
	if err != nil {
		s.recordRecipient(ctx, run, r, p, "failed", err.Error(), true)
		return err
	}
	if cp.Skipped != "" {
		s.recordRecipient(ctx, run, r, p, "skipped", cp.Skipped, true)
		return nil
	}
	if err := s.recordFiles(ctx, run, r, p, cp.Files); err != nil {
		return err
	}
	msg, err := s.message(ctx, r, run, p, cp, day)
	if err != nil {
		s.recordRecipient(ctx, run, r, p, "failed", err.Error(), true)
		return err
	}
	var errs []error
	for _, ch := range p.Channels {
		if sent[p.Key+"\x00"+ch] {
			continue
		}
		m := msg
		_, err := s.ledger.Deliver(ctx, run.ID, p.Key, ch, func(ctx context.Context, key string) (string, int, error) {
			m.Key = key
			rec, err := s.channels.Send(ctx, ch, m)
			return rec.ID, rec.Attempts, err
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		s.recordRecipient(ctx, run, r, p, "failed", err.Error(), true)
		return err
	}
	s.recordRecipient(ctx, run, r, p, "delivered", "", true)
	return s.remember(ctx, r, p, cp)
}

// safeDir makes a run id or a recipient key a folder name.
func safeDir(s string) string {
	return deliver.SafeName(strings.NewReplacer("@", "_", ":", "_").Replace(s), "x")
}

func (s *Service) recordRecipient(ctx context.Context, run schedule.Run, r *Report, p Principal, status, note string, finished bool) {
	var fin any
	if finished {
		fin = s.now()
	}
	ctx = context.WithoutCancel(ctx)
	_, err := s.db.ExecContext(ctx, `INSERT INTO report_run_recipients VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (run_id, recipient) DO UPDATE SET status = excluded.status, note = excluded.note, finished_at = excluded.finished_at`,
		run.ID, r.Name, p.Key, p.Display(), status, nullable(note), s.now(), fin)
	if err != nil {
		s.log.Error("reports: recording a recipient", "run", run.ID, "recipient", p.Key, "err", err)
	}
}

func (s *Service) recordFiles(ctx context.Context, run schedule.Run, r *Report, p Principal, files []File) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM report_files WHERE run_id = $1 AND recipient = $2`, run.ID, p.Key); err != nil {
		return err
	}
	for _, f := range files {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO report_files (run_id, report, recipient, name, format, path, size, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, run.ID, r.Name, p.Key, f.Name, f.Format, f.Path, f.Size, s.now()); err != nil {
			return err
		}
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// message composes what a channel sends a recipient: the subject, a
// mail-safe HTML body with the key figures and the charts as inline PNGs
// (when the report has the html format), a plain text and a markdown
// summary for robots, the link back to the live page, the files.
func (s *Service) message(ctx context.Context, r *Report, run schedule.Run, p Principal, cp *Copy, day string) (deliver.Message, error) {
	d := cp.doc
	lang := d.Lang
	msg := deliver.Message{Report: r.Name, RunID: run.ID, Date: run.FireTime,
		Recipient: deliver.Recipient{ID: p.Key, Name: p.Display(), Email: p.Email, WeComUserID: p.WeComID, DingTalkUserID: p.DingID, Mobile: p.Mobile},
		Subject:   d.Title + " · " + d.Period, Link: s.liveLink(d), LinkLabel: i18n.T(lang, "report.open_live")}
	if run.FireTime.Equal(never) {
		msg.Date = s.now()
	}
	srcs := map[int]string{}
	if slices.Contains(r.Formats, "html") {
		imgs, _ := s.chartImages(ctx, d, p)
		for i, b := range imgs {
			cid := fmt.Sprintf("chart%d", i+1)
			msg.Images = append(msg.Images, deliver.Image{CID: cid, Name: cid + ".png", Data: b})
			srcs[i] = "cid:" + cid
		}
	}
	doc, done, err := s.htmlDocument(d, srcs, 20)
	if err != nil {
		return msg, err
	}
	if s.selfSubscription(r, p) && s.cfg.PublicURL != "" {
		msg.UnsubscribeURL = strings.TrimRight(s.cfg.PublicURL, "/") + "/reports/" + r.Name + "/unsubscribe"
		msg.UnsubscribeLabel = i18n.T(lang, "report.unsubscribe")
		doc.Footer += " " + i18n.T(lang, "report.unsubscribe_hint", msg.UnsubscribeURL)
	}
	var html strings.Builder
	err = render.WriteHTML(&html, doc, render.Options{Location: s.engine.Location()})
	done()
	if err != nil {
		return msg, err
	}
	msg.HTML = html.String()
	msg.Text, msg.Markdown = s.summaries(d, cp, msg.Link)
	for _, f := range cp.Files {
		if f.Format == "html" {
			continue // the body is the HTML
		}
		a, err := deliver.FileAttachment(f.Name, f.ContentType, f.Path)
		if err != nil {
			return msg, err
		}
		msg.Attachments = append(msg.Attachments, a)
	}
	return msg, nil
}

// selfSubscription: a report a user made for themselves alone.
func (s *Service) selfSubscription(r *Report, p Principal) bool {
	return r.Source == "ui" && !p.External && p.Key == r.Owner && len(r.Recipients) == 1 && r.Recipients[0].User == r.Owner
}

// summaries are the plain text and the markdown of a copy: title, period
// and scope, the key figures, the first rows of each table.
func (s *Service) summaries(d *document, cp *Copy, link string) (string, string) {
	var txt, md strings.Builder
	fmt.Fprintf(&txt, "%s\n%s · %s\n", d.Title, d.Period, d.ScopeLabel)
	fmt.Fprintf(&md, "## %s\n%s · %s\n", mdEscape(d.Title), mdEscape(d.Period), mdEscape(d.ScopeLabel))
	for _, pt := range d.Parts {
		fmt.Fprintf(&txt, "\n%s\n", pt.Title)
		fmt.Fprintf(&md, "\n**%s**\n", mdEscape(pt.Title))
		if pt.Saved != nil {
			fmt.Fprintf(&md, "%s\n", mdEscape(i18n.T(d.Lang, "report.rows_count", len(pt.Saved.Rows))))
			fmt.Fprintf(&txt, "  %s\n", i18n.T(d.Lang, "report.rows_count", len(pt.Saved.Rows)))
		}
		for _, f := range pt.Figures {
			switch {
			case f.Kind == "kpi" && f.State == "ok":
				for _, k := range f.KPIs {
					v := show(d.Lang, d.Currency, k.Format, ptrVal(k.Value))
					fmt.Fprintf(&txt, "  %s: %s\n", k.Label, v)
					fmt.Fprintf(&md, "> %s: <font color=\"info\">%s</font>\n", mdEscape(k.Label), mdEscape(v))
				}
			case f.Kind == "table" && f.Table != nil:
				fmt.Fprintf(&md, "%s: %d\n", mdEscape(f.Title), len(f.Table.Rows))
				for i, row := range f.Table.Rows {
					if i == 5 {
						break
					}
					var cells []string
					for j, v := range row {
						if j < 4 && v != nil {
							cells = append(cells, fmt.Sprint(v))
						}
					}
					fmt.Fprintf(&txt, "  - %s\n", strings.Join(cells, " · "))
					fmt.Fprintf(&md, "- %s\n", mdEscape(strings.Join(cells, " · ")))
				}
			}
		}
	}
	var files []string
	for _, f := range cp.Files {
		if f.Format != "html" {
			files = append(files, f.Name)
		}
	}
	if len(files) > 0 {
		fmt.Fprintf(&txt, "\n%s: %s\n", i18n.T(d.Lang, "report.attached"), strings.Join(files, ", "))
	}
	if link != "" {
		fmt.Fprintf(&txt, "\n%s\n", link)
	}
	return txt.String(), md.String()
}

func mdEscape(s string) string {
	return strings.NewReplacer("*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "`", "'", "<", "&lt;", ">", "&gt;").Replace(s)
}

// notifyOwner tells a report's owner that a run failed: by mail when they
// have an address and the report goes through a mail channel, always in
// the audit trail (and the history shows it).
func (s *Service) notifyOwner(ctx context.Context, r *Report, run schedule.Run, runErr error) {
	detail := map[string]any{"report": r.Name, "run": run.ID, "error": runErr.Error()}
	if err := s.access.Audit(ctx, access.Event{Username: r.Owner, Action: "report_failed", Detail: detail}); err != nil {
		s.log.Warn("reports: audit", "err", err)
	}
	prof, err := s.access.Profile(ctx, r.Owner)
	if err != nil || prof.Email == "" {
		return
	}
	lang := firstNonEmpty(prof.Lang, s.cfg.Lang)
	channels := slices.Clone(r.Channels)
	for _, rc := range r.Recipients {
		channels = append(channels, rc.Channels...)
	}
	for _, name := range uniq(channels) {
		ch, err := s.channels.Get(name)
		if err != nil || ch.Kind() != "smtp" {
			continue
		}
		msg := deliver.Message{Report: r.Name, RunID: run.ID, Key: schedule.DeliveryKey(run.ID, "owner:"+r.Owner, name),
			Recipient: deliver.Recipient{ID: r.Owner, Email: prof.Email},
			Subject:   i18n.T(lang, "report.failed_subject", r.Title.Get(lang)),
			Text:      i18n.T(lang, "report.failed_body", r.Title.Get(lang), run.FireTime.In(s.engine.Location()).Format(time.DateTime), runErr.Error())}
		if _, err := ch.Send(ctx, msg); err != nil {
			s.log.Warn("reports: telling the owner of a failed run", "report", r.Name, "owner", r.Owner, "err", err)
		}
		return
	}
}

// evaluate applies a report's condition for one recipient: "" when the
// copy goes out, else why not.
func (s *Service) evaluate(ctx context.Context, r *Report, p Principal, d *document, cp *Copy) (string, error) {
	c := r.Condition
	prev, err := s.lastSent(ctx, r.Name, p.Key)
	if err != nil {
		return "", err
	}
	lang := d.Lang
	if cd, _ := ParseCooldown(c.Cooldown); cd > 0 && !prev.at.IsZero() && s.now().Sub(prev.at) < cd {
		return i18n.T(lang, "report.cond.cooldown", prev.at.In(s.engine.Location()).Format(time.DateTime), c.Cooldown), nil
	}
	switch {
	case c.Chart != "":
		ok, why, err := s.kpiHolds(ctx, r, p, d)
		if err != nil || !ok {
			return why, err
		}
	case c.Rows != "":
		keys, err := s.conditionRows(ctx, r, p, d)
		if err != nil {
			return "", err
		}
		cp.keys = keys
		min := c.MinRows
		if min <= 0 {
			min = 1
		}
		if len(keys) < min {
			return i18n.T(lang, "report.cond.rows", len(keys), min), nil
		}
		if c.New {
			seen := map[string]bool{}
			for _, k := range prev.keys {
				seen[k] = true
			}
			fresh := 0
			for _, k := range keys {
				if !seen[k] {
					fresh++
				}
			}
			if fresh == 0 {
				return i18n.T(lang, "report.cond.no_new"), nil
			}
		}
	}
	cp.hash, err = s.hash(d)
	if err != nil {
		return "", err
	}
	if c.OnlyWhenChanged && prev.hash != "" && prev.hash == cp.hash {
		return i18n.T(lang, "report.cond.unchanged"), nil
	}
	return "", nil
}

type sentState struct {
	hash string
	keys []string
	at   time.Time
}

func (s *Service) lastSent(ctx context.Context, report, recipient string) (sentState, error) {
	var st sentState
	var hash, keys sql.NullString
	var at sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT data_hash, row_keys, last_sent_at FROM report_conditions WHERE report = $1 AND recipient = $2`, report, recipient).
		Scan(&hash, &keys, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.hash, st.at = hash.String, at.Time
	if keys.Valid {
		json.Unmarshal([]byte(keys.String), &st.keys)
	}
	return st, nil
}

// remember records what a sent copy showed, for the next condition.
func (s *Service) remember(ctx context.Context, r *Report, p Principal, cp *Copy) error {
	if r.Condition == nil {
		return nil
	}
	keys, _ := json.Marshal(cp.keys)
	_, err := s.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO report_conditions VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (report, recipient) DO UPDATE SET data_hash = excluded.data_hash, row_keys = excluded.row_keys, last_sent_at = excluded.last_sent_at`,
		r.Name, p.Key, nullable(cp.hash), string(keys), s.now())
	return err
}
