package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/triscope/triscope/app"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	shots "github.com/triscope/triscope/render/chromium"
)

func newScreenshotsCmd(cfg *app.Config) *cobra.Command {
	var out, baseURL, user, bin string
	var langs []string
	var extra []string
	var pwStdin bool
	var width int
	cmd := &cobra.Command{
		Use:   "screenshots",
		Short: "Save a PNG of every dashboard page in Chinese and English (headless Chromium)",
		Long: `Drive Debian's Chromium (/usr/bin/chromium; install chromium and fonts-noto-cjk) through
every page of the dashboards, in zh-CN and en, and save full-page PNGs into --out
(<out>/<lang>/NN-<page>.png), so that a person can look at them.

Without --url it serves the warehouse (--db) itself on a free local port, signed in
as a temporary executive (in a throw-away auth file: your users are not touched);
the warehouse must not be open in another process. With --url it signs in to a
running server as --user (password from stdin).`,
		Example: `  triscope screenshots --db triscope.duckdb --out screenshots
  echo "$PW" | triscope screenshots --url http://127.0.0.1:8080 --user ceo --password-stdin --out shots`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			o := shots.CaptureOptions{Out: out, Langs: langs, Bin: bin, Width: width}
			if baseURL != "" {
				if !pwStdin {
					return errors.New("--url needs --user and --password-stdin")
				}
				line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				o.Base, o.User, o.Password = strings.TrimRight(baseURL, "/"), user, strings.TrimRight(line, "\r\n")
				o.Paths = screenshotPaths("", extra)
				return capture(ctx, cmd, o)
			}
			tmp, err := os.MkdirTemp("", "triscope-shots-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			// The runtime with an application database of its own: the
			// accounts made here never reach the configured one.
			rc := *cfg
			rc.AuthDB = filepath.Join(tmp, "access.duckdb")
			r, err := app.Open(ctx, &rc, discardLogger())
			if err != nil {
				return err
			}
			defer r.Close()
			a, w := r.Access(), r.Warehouse()
			o.User, o.Password = "screenshots", access.RandomPassword()
			if err := a.AddUser(ctx, access.User{Username: o.User, Name: "Screenshots", Role: access.RoleExecutive}, o.Password); err != nil {
				return err
			}
			srv, err := r.Dashboards(ctx, "", false)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			sctx, stop := context.WithCancel(ctx)
			defer stop()
			go srv.Serve(sctx, ln)
			o.Base = "http://" + ln.Addr().String()
			var region string
			w.DB().QueryRowContext(ctx, `SELECT u.org_unit_id FROM org_units u JOIN org_units p ON p.org_unit_id = u.parent_id
				WHERE p.parent_id IS NULL ORDER BY u.org_unit_id LIMIT 1`).Scan(&region)
			o.Paths = screenshotPaths(region, extra)
			return capture(ctx, cmd, o)
		},
	}
	cmd.Flags().StringVar(&out, "out", "screenshots", "directory for the PNGs")
	cmd.Flags().StringSliceVar(&langs, "lang", []string{"zh-CN", "en"}, "languages")
	cmd.Flags().StringSliceVar(&extra, "page", nil, "extra page paths to capture (e.g. '/magnifier?dim=industry')")
	cmd.Flags().StringVar(&baseURL, "url", "", "capture a running server instead of serving --db")
	cmd.Flags().StringVar(&user, "user", "", "with --url: the account to sign in with")
	cmd.Flags().BoolVar(&pwStdin, "password-stdin", false, "with --url: read the password from stdin")
	cmd.Flags().StringVar(&bin, "chromium", shots.DefaultBin, "Chromium binary")
	cmd.Flags().IntVar(&width, "width", 1440, "viewport width in CSS pixels (390 shows the phone layout)")
	return cmd
}

// screenshotPaths: every page in the nav bar, a magnifier zoomed into a
// region, and the magnifier by another metric and dimension.
func screenshotPaths(region string, extra []string) []string {
	var paths []string
	for _, p := range query.Pages() {
		if p.Nav > 0 {
			paths = append(paths, p.Path)
		}
	}
	if region != "" {
		paths = append(paths, "/magnifier?org="+region, "/telescope?org="+region)
	}
	paths = append(paths, "/magnifier?metric=win_rate&dim=industry", "/magnifier?metric=collections&dim=channel&cmp=prev")
	return append(paths, extra...)
}

func capture(ctx context.Context, cmd *cobra.Command, o shots.CaptureOptions) error {
	files, problems, err := shots.Capture(ctx, o)
	for _, f := range files {
		fmt.Fprintln(cmd.OutOrStdout(), f)
	}
	for _, p := range problems {
		slog.Warn("browser console", "problem", p)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d screenshots in %s\n", len(files), o.Out)
	return nil
}
