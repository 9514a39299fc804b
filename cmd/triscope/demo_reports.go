package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/reports"
	"github.com/triscope/triscope/reports/deliver"
)

// demoReports prepares the demo's reports (reports/demo): their
// definitions written to triscope-reports/ beside the warehouse (unless
// reports_dir is set), archive folders standing in for the mail server and
// the WeCom robot when no such channel is configured, the named scope
// east-china, a manager for every other region (the weekly pack is burst
// to each region's manager), and where each demo account's reports go. It
// returns the region managers it made.
func demoReports(ctx context.Context, r *app.Runtime, cfg *app.Config, accounts []demoAccount, password, locale string, out io.Writer) ([]demoAccount, error) {
	base, err := filepath.Abs(filepath.Dir(cfg.DB))
	if err != nil {
		return nil, err
	}
	if cfg.ReportsDir == "" {
		cfg.ReportsDir = filepath.Join(base, "triscope-reports")
		if err := os.MkdirAll(cfg.ReportsDir, 0o755); err != nil {
			return nil, err
		}
		entries, _ := fs.ReadDir(reports.DemoFS, "demo")
		for _, e := range entries {
			dst := filepath.Join(cfg.ReportsDir, e.Name())
			if _, err := os.Stat(dst); err == nil {
				continue // kept: it may have been edited
			}
			b, err := fs.ReadFile(reports.DemoFS, path.Join("demo", e.Name()))
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return nil, err
			}
		}
	}
	if cfg.Delivery.Channels == nil {
		cfg.Delivery.Channels = map[string]deliver.ChannelConfig{}
	}
	var stand []string
	for name, sub := range map[string]string{"mail": "mail", "sales-wecom": "wecom"} {
		if _, ok := cfg.Delivery.Channels[name]; !ok {
			root := filepath.Join(base, "triscope-archive", sub)
			cfg.Delivery.Channels[name] = deliver.ChannelConfig{Kind: "folder", Folder: &deliver.FolderConfig{Root: root}}
			stand = append(stand, fmt.Sprintf("%s → %s", name, root))
		}
	}
	var region string
	for _, a := range accounts {
		if a.user.Username == "east" {
			region = a.user.OrgUnit
		}
	}
	if cfg.Reports.Scopes == nil {
		cfg.Reports.Scopes = map[string]string{}
	}
	if _, ok := cfg.Reports.Scopes["east-china"]; !ok && region != "" {
		cfg.Reports.Scopes["east-china"] = "org:" + region
	}
	// A manager for every other region.
	rows, err := r.Warehouse().DB().QueryContext(ctx, `SELECT org_unit_id, name FROM org_units WHERE level = 'region' AND org_unit_id <> $1 ORDER BY org_unit_id`, region)
	if err != nil {
		return nil, err
	}
	var managers []demoAccount
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return nil, err
		}
		u := access.User{Username: "mgr-" + strings.ToLower(id), Name: name + " manager", Role: access.RoleManager, OrgUnit: id}
		managers = append(managers, demoAccount{user: u, note: name + " (" + id + ") and below"})
	}
	rows.Close()
	lang := "en"
	if locale == "zh" {
		lang = "zh-CN"
	}
	for _, a := range append(append([]demoAccount(nil), accounts...), managers...) {
		if a.user.Role == access.RoleManager && a.user.Username != "east" {
			if err := r.Access().PutUser(ctx, a.user, password); err != nil {
				return nil, fmt.Errorf("demo manager %s: %w", a.user.Username, err)
			}
		}
		p := access.Profile{Username: a.user.Username, Email: a.user.Username + "@demo.triscope.local", Lang: lang}
		if err := r.Access().SetProfile(ctx, p); err != nil {
			return nil, fmt.Errorf("profile of %s: %w", a.user.Username, err)
		}
	}
	fmt.Fprintf(out, "\nReports: the demo's definitions are in %s ('triscope report list')\n", cfg.ReportsDir)
	for _, s := range stand {
		fmt.Fprintf(out, "  no such channel configured, delivering to a folder instead: %s\n", s)
	}
	if p, err := writeDemoConfig(base, cfg, stand); err != nil {
		fmt.Fprintf(out, "  (could not write the demo's settings: %v)\n", err)
	} else if p != "" {
		fmt.Fprintf(out, "  their settings are in %s: 'triscope serve --config %s' serves the same reports later\n", p, p)
	}
	return managers, nil
}

// writeDemoConfig writes what the demo's reports need from the configuration
// (the warehouse, reports_dir, the folder channels standing in for mail and
// WeCom, the named scope) to triscope-demo.yaml beside the warehouse, unless
// the file exists: `triscope serve` started later without it would serve
// the accounts but not the reports. It returns the file's path, or "" when
// it was kept as it was.
func writeDemoConfig(base string, cfg *app.Config, stand []string) (string, error) {
	p := filepath.Join(base, "triscope-demo.yaml")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	db, err := filepath.Abs(cfg.DB)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Written by triscope demo: the settings its reports need. Serve them with\n")
	fmt.Fprintf(&b, "#   triscope serve --config %s\n", p)
	b.WriteString("# and replace the folder channels with a mail server or robots (docs: reports/README.md).\n")
	fmt.Fprintf(&b, "db: %q\nreports_dir: %q\n", db, cfg.ReportsDir)
	if len(cfg.Reports.Scopes) > 0 {
		b.WriteString("reports:\n  scopes:\n")
		for _, name := range slices.Sorted(maps.Keys(cfg.Reports.Scopes)) {
			fmt.Fprintf(&b, "    %s: %q\n", name, cfg.Reports.Scopes[name])
		}
	}
	if len(stand) > 0 {
		b.WriteString("delivery:\n  channels:\n")
		for _, name := range slices.Sorted(maps.Keys(cfg.Delivery.Channels)) {
			ch := cfg.Delivery.Channels[name]
			if ch.Kind != "folder" || ch.Folder == nil {
				continue
			}
			fmt.Fprintf(&b, "    %s:\n      kind: folder\n      folder:\n        root: %q\n", name, ch.Folder.Root)
		}
	}
	return p, os.WriteFile(p, []byte(b.String()), 0o600)
}

// firstDemoRuns sends each demo report once, in the background, so that the
// archive shows them right away (the schedules take over from there).
func firstDemoRuns(ctx context.Context, r *app.Runtime, out io.Writer) {
	go func() {
		time.Sleep(2 * time.Second)
		for _, name := range []string{"daily-alert-digest", "month-end-settlements", "weekly-exec-pack"} {
			info, err := r.ReportSend(ctx, name, "demo")
			switch {
			case errors.Is(err, reports.ErrNoReport):
				continue
			case err != nil:
				fmt.Fprintf(out, "report %s: %v\n", name, err)
			case info != nil:
				fmt.Fprintf(out, "report %s sent to %d recipients: %s ('triscope report history %s')\n", name, len(info.Recipients), info.Status, name)
			}
		}
	}()
}
