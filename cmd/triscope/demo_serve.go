package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
)

// demoServe is the end of `triscope demo`: the demo accounts and the server.
type demoServe struct {
	noServe  bool
	password string
	addr     string
	locale   string // the demo company's (en or zh): the demo accounts read reports in it
}

func (d *demoServe) flags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&d.noServe, "no-serve", false, "stop after loading, computing and creating the demo accounts (no server)")
	cmd.Flags().StringVar(&d.password, "demo-password", "", "password of every demo account (default: a random one, printed)")
	cmd.Flags().StringVar(&d.addr, "addr", "127.0.0.1:8080", "listen address of the dashboards")
}

func (d *demoServe) start(cmd *cobra.Command, out io.Writer) error {
	if d.password == "" {
		d.password = access.RandomPassword()
		fmt.Fprintf(out, "Demo accounts will use the password %s\n\n", d.password)
	} else if len([]rune(d.password)) < 8 {
		return errors.New("--demo-password: use at least 8 characters")
	}
	return nil
}

// demoAccount is one demo login.
type demoAccount struct {
	user access.User
	note string
}

// demoAccounts picks the units and the rep the demo accounts are about.
func demoAccounts(ctx context.Context, db *sql.DB) ([]demoAccount, error) {
	var region, regionName, branch, branchName, rep, repName string
	// The East China region (English or Chinese demo), else the first region.
	err := db.QueryRowContext(ctx, `SELECT org_unit_id, name FROM org_units WHERE level = 'region'
		ORDER BY CASE WHEN name IN ('East China', '华东', '华东区', '华东大区') THEN 0
		              WHEN lower(name) LIKE '%east%' OR name LIKE '华东%' THEN 1 ELSE 2 END, org_unit_id LIMIT 1`).Scan(&region, &regionName)
	if err != nil {
		return nil, fmt.Errorf("demo accounts: finding a region: %w", err)
	}
	err = db.QueryRowContext(ctx, `SELECT org_unit_id, name FROM org_units WHERE level = 'branch' AND parent_id = $1
		ORDER BY org_unit_id LIMIT 1`, region).Scan(&branch, &branchName)
	if err != nil {
		return nil, fmt.Errorf("demo accounts: finding a branch of %s: %w", regionName, err)
	}
	// The rep of that region with the most deals.
	err = db.QueryRowContext(ctx, `WITH RECURSIVE t AS (
		    SELECT org_unit_id FROM org_units WHERE org_unit_id = $1
		    UNION ALL SELECT o.org_unit_id FROM org_units o JOIN t ON o.parent_id = t.org_unit_id)
		SELECT r.rep_id, r.name FROM reps r JOIN t USING (org_unit_id)
		JOIN opportunities o ON o.owner_rep_id = r.rep_id
		WHERE r.left_on IS NULL
		GROUP BY r.rep_id, r.name ORDER BY count(*) DESC, r.rep_id LIMIT 1`, region).Scan(&rep, &repName)
	if err != nil {
		return nil, fmt.Errorf("demo accounts: finding a rep with deals: %w", err)
	}
	return []demoAccount{
		{access.User{Username: "admin", Name: "Administrator", Role: access.RoleAdmin}, "everything"},
		{access.User{Username: "ceo", Name: "CEO", Role: access.RoleExecutive}, "the whole company"},
		{access.User{Username: "east", Name: regionName + " manager", Role: access.RoleManager, OrgUnit: region}, regionName + " (" + region + ") and below"},
		{access.User{Username: "rep", Name: repName, Role: access.RoleRep, RepID: rep}, repName + " (" + rep + "): own customers and deals"},
		{access.User{Username: "analyst", Name: branchName + " analyst", Role: access.RoleAnalyst, OrgUnit: branch}, branchName + " (" + branch + ") and below"},
	}, nil
}

// accounts creates (or resets) the demo accounts in the application database.
func (d *demoServe) accounts(ctx context.Context, r *app.Runtime) ([]demoAccount, error) {
	accounts, err := demoAccounts(ctx, r.Warehouse().DB())
	if err != nil {
		return nil, err
	}
	for _, acc := range accounts {
		if err := r.Access().PutUser(ctx, acc.user, d.password); err != nil {
			return nil, fmt.Errorf("demo account %s: %w", acc.user.Username, err)
		}
	}
	return accounts, nil
}

func printAccounts(out io.Writer, accounts []demoAccount, password string) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  user\trole\tsees\tpassword")
	for _, acc := range accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", acc.user.Username, acc.user.Role, acc.note, password)
	}
	tw.Flush()
}

// serve creates the demo accounts and reports and, unless --no-serve (when
// the caller computed the models already), serves the pages while the
// models are computed (models waits for that refresh): the first page comes
// a refresh sooner and says the models are being computed until they are
// (the refresh has the write lane; pages read the committed data). The
// demo's first report runs follow the models.
func (d *demoServe) serve(ctx context.Context, r *app.Runtime, cfg *app.Config, out io.Writer, models func() (*app.RefreshResult, error)) error {
	accounts, err := d.accounts(ctx, r)
	if err != nil {
		return err
	}
	managers, err := demoReports(ctx, r, cfg, accounts, d.password, d.locale, out)
	if err != nil {
		return err
	}
	if d.noServe {
		fmt.Fprintf(out, "\nDemo accounts (in %s; 'triscope serve' to use them):\n", cfg.AuthPath())
		printAccounts(out, accounts, d.password)
		fmt.Fprintf(out, "  and %d more region managers (mgr-…), who receive the weekly pack\n", len(managers))
		return nil
	}
	addr := d.addr
	if cfg.Addr != "" && cfg.Addr != "127.0.0.1:8080" && d.addr == "127.0.0.1:8080" {
		addr = cfg.Addr
	}
	return r.Serve(ctx, app.ServeOptions{Addr: addr, Ready: func(url string) {
		fmt.Fprintf(out, "\nTriscope is ready: %s   (Ctrl-C to stop)\n\n", url)
		printAccounts(out, accounts, d.password)
		fmt.Fprintf(out, "  and %d more region managers (mgr-…), who receive the weekly pack\n", len(managers))
		fmt.Fprintf(out, "\nUsers, sessions and the audit trail: %s (manage with 'triscope users')\n", cfg.AuthPath())
		go func() {
			res, err := models()
			if ctx.Err() != nil {
				return
			}
			fmt.Fprintln(out, "\nThe models:")
			if err := printRefresh(out, res, err); err != nil {
				fmt.Fprintf(out, "%v\n(the pages show the data without them; 'triscope refresh' tries again)\n", err)
				return
			}
			firstDemoRuns(ctx, r, out)
		}()
	}})
}
