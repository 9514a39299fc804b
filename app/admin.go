package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/triscope/triscope/access"
)

// Admin is what the command line asks of Triscope: loads, refreshes, users
// and the audit trail. Connect returns the running server's admin API when a
// server owns the warehouse file (remote.go) and the runtime itself
// otherwise (direct), so every command works either way and can say which.
type Admin interface {
	Load(ctx context.Context, req LoadRequest, progress func(done, total int64)) (*LoadResult, error)
	Refresh(ctx context.Context, req RefreshRequest) (*RefreshResult, error)
	Users(ctx context.Context) ([]access.User, error)
	AddUser(ctx context.Context, u access.User, password, by string) error
	SetPassword(ctx context.Context, username, password, by string) error
	SetDisabled(ctx context.Context, username string, disabled bool, by string) error
	AuditLog(ctx context.Context, limit int) ([]access.Event, error)
	ReportsAdmin // reports.go
	// Where says how the commands reach the warehouse, for people:
	// "through the server at http://… (pid N)" or "directly (…)".
	Where() string
	Close() error
}

// Connect reaches the warehouse of cfg: through the server that owns it when
// one answers, else by opening it (and the application database) directly.
func Connect(ctx context.Context, cfg *Config, log *slog.Logger) (Admin, error) {
	if sf, ok := RunningServer(ctx, cfg.DB); ok {
		return &remote{sf: sf}, nil
	}
	r, err := Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	return direct{r}, nil
}

// direct is the runtime opened by this process.
type direct struct{ *Runtime }

func (d direct) Where() string { return "directly (no server is running for it)" }

// Load runs the load in this process; the refresh is left to the caller
// (`triscope refresh`), as no server is there to run it.
func (d direct) Load(ctx context.Context, req LoadRequest, progress func(done, total int64)) (*LoadResult, error) {
	return d.Runtime.Load(ctx, req, progress, false)
}

// Users lists the users of the application database.
func (r *Runtime) Users(ctx context.Context) ([]access.User, error) { return r.access.Users(ctx) }

// AddUser adds a user after checking their org unit or rep against the
// warehouse.
func (r *Runtime) AddUser(ctx context.Context, u access.User, password, by string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if err := r.checkScopeExists(ctx, u); err != nil {
		return err
	}
	if err := r.access.AddUser(ctx, u, password); err != nil {
		return err
	}
	r.audit(ctx, by, "user_add", map[string]any{"user": u.Username, "role": u.Role, "org_unit_id": u.OrgUnit, "rep_id": u.RepID})
	return nil
}

// SetPassword sets a user's password (their sessions end).
func (r *Runtime) SetPassword(ctx context.Context, username, password, by string) error {
	if err := r.access.SetPassword(ctx, username, password); err != nil {
		return err
	}
	r.audit(ctx, by, "user_passwd", map[string]any{"user": username})
	return nil
}

// SetDisabled disables or enables a user.
func (r *Runtime) SetDisabled(ctx context.Context, username string, disabled bool, by string) error {
	if err := r.access.SetDisabled(ctx, username, disabled); err != nil {
		return err
	}
	action := map[bool]string{true: "user_disable", false: "user_enable"}[disabled]
	r.audit(ctx, by, action, map[string]any{"user": username})
	return nil
}

// AuditLog is the newest events of the audit trail.
func (r *Runtime) AuditLog(ctx context.Context, limit int) ([]access.Event, error) {
	return r.access.AuditLog(ctx, limit)
}

// checkScopeExists refuses a manager, analyst or rep whose org unit or rep
// is not in the warehouse (they would see nothing).
func (r *Runtime) checkScopeExists(ctx context.Context, u access.User) error {
	check := func(q, id, what string) error {
		var n int
		if err := r.w.Reader().QueryRowContext(ctx, q, id).Scan(&n); err != nil {
			return fmt.Errorf("checking %s %q: %w", what, id, err)
		}
		if n == 0 {
			return fmt.Errorf("%s %q is not in the warehouse: load the org units and reps first, or check the id", what, id)
		}
		return nil
	}
	if u.OrgUnit != "" {
		if err := check("SELECT count(*) FROM live.org_units WHERE org_unit_id = $1", u.OrgUnit, "org unit"); err != nil {
			return err
		}
	}
	if u.RepID != "" {
		if err := check("SELECT count(*) FROM live.reps WHERE rep_id = $1", u.RepID, "rep"); err != nil {
			return err
		}
	}
	return nil
}

// errRemote is an error the server reported.
type errRemote struct{ msg string }

func (e errRemote) Error() string { return e.msg }

// IsRefused reports whether err is a refusal by the server (not a network problem).
func IsRefused(err error) bool {
	var e errRemote
	return errors.As(err, &e)
}

// Admin is the runtime as the command line uses it when no server runs
// (loads do not schedule refreshes: there is no server to run them).
func (r *Runtime) Admin() Admin { return direct{r} }
