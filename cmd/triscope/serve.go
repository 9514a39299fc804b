package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/dashboards"
	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/warehouse"
)

func newServeCmd(cfg *Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the dashboards (Telescope, Magnifier, …) over HTTP",
		Long: `Serve the dashboards. The server owns the warehouse file (one process may open it
for writing) and reads it through a bounded pool; users, sessions and the audit
trail live in a separate file (auth_db, default: the warehouse path with .duckdb
replaced by .auth.duckdb). Create users first with 'triscope users add'.

Endpoints besides the pages: /healthz (alive), /readyz (warehouse and auth
database reachable), /metrics (Prometheus). Stop with Ctrl-C: in-flight requests
finish (up to 10 s).`,
		Example: `  triscope users add alice --role executive
  triscope serve --addr 127.0.0.1:8080`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			w, err := warehouse.Open(ctx, cfg.warehouseOptions())
			if err != nil {
				return err
			}
			defer w.Close()
			a, err := access.Open(ctx, cfg.authPath(), slog.Default())
			if err != nil {
				return err
			}
			defer a.Close()
			users, err := a.Users(ctx)
			if err != nil {
				return err
			}
			if len(users) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: there are no users in %s yet: stop the server and run 'triscope users add NAME --role executive'\n", cfg.authPath())
			}
			return runServer(ctx, w, a, cfg, cfg.Addr, cmd.OutOrStdout(), nil)
		},
	}
	cmd.Flags().String("addr", "127.0.0.1:8080", "listen address (host:port)")
	return cmd
}

// runServer starts the dashboards on addr and blocks until ctx ends.
// ready, when set, is called with the base URL once the server listens.
func runServer(ctx context.Context, w *warehouse.Warehouse, a *access.Store, cfg *Config, addr string, out io.Writer, ready func(url string)) error {
	token, err := newLoadToken()
	if err != nil {
		return err
	}
	srv, err := dashboards.New(ctx, dashboards.Options{
		Warehouse: w, Auth: a, BaseCurrency: cfg.BaseCurrency, Logger: slog.Default(),
		SecureCookies: cfg.SecureCookies, TrustProxy: cfg.TrustProxy, LoadToken: token,
	})
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	url := "http://" + ln.Addr().String()
	remove, err := writeServerFile(cfg.DB, serverFile{URL: url, PID: os.Getpid(), Token: token})
	if err != nil {
		ln.Close()
		return err
	}
	defer remove()
	if ready != nil {
		ready(url)
	} else {
		fmt.Fprintf(out, "Triscope dashboards: %s  (Ctrl-C to stop)\n", url)
	}
	return srv.Serve(ctx, ln)
}
