package main

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/triscope/triscope/app"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/triscope/triscope/access"
)

func newUsersCmd(cfg *app.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage dashboard users: add, list, disable, enable, passwd, audit",
		Long: `Users live in the application database (auth_db; default: the warehouse path with
.duckdb replaced by .auth.duckdb), not in the warehouse. Roles and what they see:

  admin      everything (and the audit trail)
  executive  everything
  manager    their org unit and everything below it      (--org-unit)
  analyst    the org unit assigned to them, and below it  (--org-unit)
  rep        their own customers and deals                (--rep)

While 'triscope serve' runs, these commands work through it (and say so).`,
	}
	cmd.AddCommand(newUsersAddCmd(cfg), newUsersListCmd(cfg), newUsersDisableCmd(cfg, true), newUsersDisableCmd(cfg, false),
		newUsersPasswdCmd(cfg), newUsersAuditCmd(cfg))
	return cmd
}

// connect reaches the users: through the running server, or directly.
func connect(cmd *cobra.Command, cfg *app.Config) (app.Admin, error) {
	adm, err := app.Connect(cmd.Context(), cfg, discardLogger())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "users of %s %s\n", cfg.DB, adm.Where())
	return adm, nil
}

// readPassword reads a new password: from stdin with --password-stdin, with a
// double prompt on a terminal, else it generates one and prints it.
func readPassword(cmd *cobra.Command, fromStdin bool) (string, bool, error) {
	if fromStdin {
		line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, err
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprint(cmd.ErrOrStderr(), "New password: ")
		p1, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", false, err
		}
		fmt.Fprint(cmd.ErrOrStderr(), "Repeat it: ")
		p2, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", false, err
		}
		if string(p1) != string(p2) {
			return "", false, errors.New("the passwords differ")
		}
		return string(p1), false, nil
	}
	return access.RandomPassword(), true, nil
}

func newUsersAddCmd(cfg *app.Config) *cobra.Command {
	var u access.User
	var stdin bool
	cmd := &cobra.Command{
		Use:   "add USERNAME --role ROLE [--org-unit ID] [--rep ID]",
		Short: "Add a user (prompts for the password, or generates and prints one)",
		Example: `  triscope users add ceo --role executive --name "Wang Wei"
  triscope users add east --role manager --org-unit ORG-0002
  triscope users add li.na --role rep --rep REP-00123
  echo 's3cret-pass' | triscope users add bi --role analyst --org-unit ORG-0011 --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			u.Username = args[0]
			if err := u.Validate(); err != nil {
				return err
			}
			pw, generated, err := readPassword(cmd, stdin)
			if err != nil {
				return err
			}
			a, err := connect(cmd, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.AddUser(ctx, u, pw, osUser()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s (%s)\n", u.Username, u.Role)
			if generated {
				fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n", pw)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&u.Role, "role", "", "admin, executive, manager, rep or analyst")
	cmd.Flags().StringVar(&u.OrgUnit, "org-unit", "", "org_unit_id at the root of what a manager or analyst sees")
	cmd.Flags().StringVar(&u.RepID, "rep", "", "rep_id of a rep user")
	cmd.Flags().StringVar(&u.Name, "name", "", "display name")
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from the first line of stdin")
	cmd.MarkFlagRequired("role")
	return cmd
}

func newUsersListCmd(cfg *app.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List users",
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := connect(cmd, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			users, err := a.Users(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "username\trole\torg unit\trep\tname\tstatus\tcreated")
			for _, u := range users {
				status := "active"
				if u.Disabled {
					status = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, dash(u.OrgUnit), dash(u.RepID), dash(u.Name), status, u.CreatedAt.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newUsersDisableCmd(cfg *app.Config, disable bool) *cobra.Command {
	use, short := "disable USERNAME", "Disable a user (their sessions end)"
	if !disable {
		use, short = "enable USERNAME", "Enable a disabled user"
	}
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := connect(cmd, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.SetDisabled(cmd.Context(), args[0], disable, osUser()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", args[0], map[bool]string{true: "disabled", false: "enabled"}[disable])
			return nil
		},
	}
}

func newUsersPasswdCmd(cfg *app.Config) *cobra.Command {
	var stdin bool
	cmd := &cobra.Command{
		Use: "passwd USERNAME", Short: "Set a user's password (their sessions end)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, generated, err := readPassword(cmd, stdin)
			if err != nil {
				return err
			}
			a, err := connect(cmd, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.SetPassword(cmd.Context(), args[0], pw, osUser()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password of %s changed\n", args[0])
			if generated {
				fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n", pw)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from the first line of stdin")
	return cmd
}

func newUsersAuditCmd(cfg *app.Config) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use: "audit", Short: "Show the audit trail (logins, exports, user changes), newest first",
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := connect(cmd, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			events, err := a.AuditLog(cmd.Context(), limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "at\tuser\taction\tip\tdetail")
			for _, e := range events {
				var detail []string
				for k, v := range e.Detail {
					detail = append(detail, fmt.Sprintf("%s=%v", k, v))
				}
				sort.Strings(detail)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Format("2006-01-02 15:04:05"), dash(e.Username), e.Action, dash(e.IP), strings.Join(detail, " "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "number of events")
	return cmd
}
