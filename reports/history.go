package reports

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/triscope/triscope/reports/schedule"
)

// RunInfo is one run of a report with what happened to each recipient.
type RunInfo struct {
	schedule.Run
	Recipients []RecipientInfo `json:"recipients"`
}

// RecipientInfo is one recipient of a run: rendered and delivered (per
// channel), held back by the condition, or failed; and the files kept.
type RecipientInfo struct {
	Key        string              `json:"key"`
	Display    string              `json:"display"`
	Status     string              `json:"status"`
	Note       string              `json:"note,omitempty"`
	Seconds    float64             `json:"seconds,omitempty"`
	Deliveries []schedule.Delivery `json:"deliveries,omitempty"`
	Files      []StoredFile        `json:"files,omitempty"`
}

// StoredFile is a rendered file kept for the history.
type StoredFile struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Format string `json:"format"`
	Size   int64  `json:"size"`
	Path   string `json:"-"`
}

// History lists a report's runs, newest first (at most limit), with their
// recipients, deliveries and files. visible, when set, keeps only the
// recipients it accepts (people see their own copies; administrators all).
func (s *Service) History(ctx context.Context, name string, limit int, visible func(recipient string) bool) ([]RunInfo, error) {
	if _, err := s.Report(ctx, name); err != nil {
		return nil, err
	}
	runs, err := s.ledger.History(ctx, name, limit)
	if err != nil {
		return nil, err
	}
	out := make([]RunInfo, 0, len(runs))
	for _, run := range runs {
		info := RunInfo{Run: run}
		byKey := map[string]*RecipientInfo{}
		order := []string{}
		get := func(key string) *RecipientInfo {
			if ri, ok := byKey[key]; ok {
				return ri
			}
			ri := &RecipientInfo{Key: key, Display: key}
			byKey[key] = ri
			order = append(order, key)
			return ri
		}
		rows, err := s.db.QueryContext(ctx, `SELECT recipient, coalesce(display, recipient), status, coalesce(note, ''), started_at, finished_at
			FROM report_run_recipients WHERE run_id = $1 ORDER BY recipient`, run.ID)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var key, display, status, note string
			var started time.Time
			var finished sql.NullTime
			if err := rows.Scan(&key, &display, &status, &note, &started, &finished); err != nil {
				rows.Close()
				return nil, err
			}
			ri := get(key)
			ri.Display, ri.Status, ri.Note = display, status, note
			if finished.Valid {
				ri.Seconds = finished.Time.Sub(started).Seconds()
			}
		}
		rows.Close()
		ds, err := s.ledger.Deliveries(ctx, run.ID)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			ri := get(d.Recipient)
			ri.Deliveries = append(ri.Deliveries, d)
		}
		files, err := s.db.QueryContext(ctx, `SELECT file_id, recipient, name, format, size, path FROM report_files WHERE run_id = $1 ORDER BY file_id`, run.ID)
		if err != nil {
			return nil, err
		}
		for files.Next() {
			var f StoredFile
			var key string
			if err := files.Scan(&f.ID, &key, &f.Name, &f.Format, &f.Size, &f.Path); err != nil {
				files.Close()
				return nil, err
			}
			get(key).Files = append(get(key).Files, f)
		}
		files.Close()
		for _, k := range order {
			if visible == nil || visible(k) {
				info.Recipients = append(info.Recipients, *byKey[k])
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// StoredFileByID returns a kept file and whose copy it is.
func (s *Service) StoredFileByID(ctx context.Context, id int64) (StoredFile, string, string, error) {
	var f StoredFile
	var report, recipient string
	err := s.db.QueryRowContext(ctx, `SELECT file_id, report, recipient, name, format, size, path FROM report_files WHERE file_id = $1`, id).
		Scan(&f.ID, &report, &recipient, &f.Name, &f.Format, &f.Size, &f.Path)
	if errors.Is(err, sql.ErrNoRows) {
		return f, "", "", os.ErrNotExist
	}
	return f, report, recipient, err
}

// retention deletes rendered files older than the retention period, at
// start and every six hours.
func (s *Service) retention(ctx context.Context) {
	t := time.NewTicker(6 * time.Hour)
	defer t.Stop()
	for {
		if n, err := s.Expire(ctx); err != nil {
			s.log.Warn("reports: retention", "err", err)
		} else if n > 0 {
			s.log.Info("reports: rendered files past retention deleted", "files", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Expire deletes the rendered files older than the retention period (the
// history keeps saying they were sent) and returns how many.
func (s *Service) Expire(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-s.cfg.Retention)
	rows, err := s.db.QueryContext(ctx, `SELECT file_id, path FROM report_files WHERE created_at < $1`, cutoff)
	if err != nil {
		return 0, err
	}
	type old struct {
		id   int64
		path string
	}
	var olds []old
	for rows.Next() {
		var o old
		if err := rows.Scan(&o.id, &o.path); err != nil {
			rows.Close()
			return 0, err
		}
		olds = append(olds, o)
	}
	rows.Close()
	root, _ := filepath.Abs(s.cfg.FilesDir)
	n := 0
	for _, o := range olds {
		abs, _ := filepath.Abs(o.path)
		if strings.HasPrefix(abs, root+string(os.PathSeparator)) {
			if err := os.Remove(abs); err != nil && !errors.Is(err, os.ErrNotExist) {
				return n, err
			}
			// The recipient's and the run's folders go when empty.
			os.Remove(filepath.Dir(abs))
			os.Remove(filepath.Dir(filepath.Dir(abs)))
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM report_files WHERE file_id = $1`, o.id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
