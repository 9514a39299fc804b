package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/app"
)

func newServeCmd(cfg *app.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the dashboards (Telescope, Magnifier, …) over HTTP",
		Long: `Serve the dashboards. The server owns the warehouse file (one process may open it
for writing) and runs every write as a job on its one write lane: loads, refreshes,
collision rulings. Users, sessions and the audit trail live in the application
database (auth_db, default: the warehouse path with .duckdb replaced by
.auth.duckdb). Create users first with 'triscope users add'.

While it runs, 'triscope load', 'refresh' and 'users' work through it (they find it
by <db>.server.json, readable only by you). A load through the server is followed by
a refresh of the models it affects (refresh_after_load: affected, all or off).

Endpoints besides the pages: /healthz (alive), /readyz (warehouse and application
database reachable), /metrics (Prometheus). Stop with Ctrl-C: in-flight requests
finish (up to 10 s).`,
		Example: `  triscope users add alice --role executive
  triscope serve --addr 127.0.0.1:8080`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if cmd.Flags().Changed("flight-addr") {
				cfg.SQL.Flight.Addr, _ = cmd.Flags().GetString("flight-addr")
			}
			if sf, ok := app.RunningServer(ctx, cfg.DB); ok {
				return fmt.Errorf("a triscope server already serves %s at %s: stop it first", cfg.DB, sf.URL)
			}
			r, err := app.Open(ctx, cfg, slog.Default())
			if err != nil {
				return err
			}
			defer r.Close()
			users, err := r.Users(ctx)
			if err != nil {
				return err
			}
			if len(users) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: there are no users in %s yet: run 'triscope users add NAME --role executive' (it works while the server runs)\n", cfg.AuthPath())
			}
			return r.Serve(ctx, app.ServeOptions{Ready: func(url string) {
				fmt.Fprintf(cmd.OutOrStdout(), "Triscope dashboards: %s  (Ctrl-C to stop)\n", url)
			}, FlightReady: func(addr string) {
				fmt.Fprintf(cmd.OutOrStdout(), "Arrow Flight SQL: %s\n", addr)
			}})
		},
	}
	cmd.Flags().String("addr", "127.0.0.1:8080", "listen address (host:port)")
	cmd.Flags().String("flight-addr", "", "serve ad hoc SQL over Arrow Flight SQL on host:port (off by default; plaintext only on a loopback address, else configure sql.flight.tls_cert and tls_key)")
	return cmd
}
