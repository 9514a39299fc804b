package app

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/triscope/triscope/dashboards"
	"github.com/triscope/triscope/models"
)

// ServeOptions configure Serve.
type ServeOptions struct {
	Addr     string           // listen address (default: Config.Addr)
	Listener net.Listener     // instead of Addr (tests)
	Ready    func(url string) // called once the server listens
	// FlightReady is called with the Flight SQL address when it listens
	// (sql.flight.addr set).
	FlightReady func(addr string)
	NoWarmUp    bool // no background warm-up of the pages (cold benchmarks)
}

// dashboardJobs adapts the runtime to the writes the dashboards ask for.
type dashboardJobs struct{ r *Runtime }

func (j dashboardJobs) RuleCollision(ctx context.Context, ru dashboards.Ruling) error {
	return j.r.RuleCollision(ctx, models.Ruling{OpportunityID: ru.OpportunityID, ConflictsWith: ru.ConflictsWith,
		Decision: ru.Decision, WinnerOpportunityID: ru.WinnerOpportunityID, WinnerRegistrant: ru.WinnerRegistrant,
		Note: ru.Note, By: ru.By, ByRole: ru.ByRole, At: ru.At})
}

// faceBuilders make the other faces served beside the dashboards (reports,
// ad hoc SQL): each face's file in this package registers its builder in an
// init function, so adding a face touches no other file.
var faceBuilders []func(ctx context.Context, r *Runtime) (dashboards.Face, error)

// Dashboards builds the HTTP server over this runtime: the dashboards and
// the other faces; adminToken (when set) enables the admin API for the
// command line.
func (r *Runtime) Dashboards(ctx context.Context, adminToken string, noWarmUp bool) (*dashboards.Server, error) {
	opts := dashboards.Options{
		Engine: r.engine, Auth: r.access, Jobs: dashboardJobs{r}, Ready: r.Ready,
		BaseCurrency: r.cfg.BaseCurrency, Logger: r.log, SecureCookies: r.cfg.SecureCookies, TrustProxy: r.cfg.TrustProxy,
		NoWarmUp: noWarmUp, MetricsToken: r.cfg.MetricsToken,
	}
	for _, build := range faceBuilders {
		f, err := build(ctx, r)
		if err != nil {
			return nil, err
		}
		opts.Faces = append(opts.Faces, f)
	}
	if adminToken != "" {
		opts.AdminAPI = r.adminHandler(adminToken)
		opts.BodyLimits = map[string]int64{adminPrefix: maxAdminBody}
	}
	return dashboards.New(ctx, opts)
}

// Serve serves the faces over HTTP until ctx ends, and writes the server
// file through which the command line reaches this runtime meanwhile.
func (r *Runtime) Serve(ctx context.Context, o ServeOptions) error {
	token, err := newToken()
	if err != nil {
		return err
	}
	srv, err := r.Dashboards(ctx, token, o.NoWarmUp)
	if err != nil {
		return err
	}
	ln := o.Listener
	if ln == nil {
		addr := o.Addr
		if addr == "" {
			addr = r.cfg.Addr
		}
		if ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr); err != nil {
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
	}
	waitFlight, err := r.startFlight(ctx, o.FlightReady)
	if err != nil {
		ln.Close()
		return err
	}
	defer waitFlight()
	url := "http://" + ln.Addr().String()
	remove, err := writeServerFile(r.cfg.DB, ServerFile{URL: url, PID: os.Getpid(), Token: token})
	if err != nil {
		ln.Close()
		return err
	}
	defer remove()
	stopReports, err := r.startReports(ctx, url)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopReports()
	if o.Ready != nil {
		o.Ready(url)
	}
	return srv.Serve(ctx, ln)
}
