package reports

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
)

// Principal is one resolved recipient: whom a copy is rendered as, in
// which language, and where it goes. A user's copy is rendered as that
// user (their own scope, never the report owner's); an external
// recipient's as a stand-in account bound to its named scope.
type Principal struct {
	// Key identifies the recipient in the ledger and the history: the
	// user name, or "ext:<slug>" for an external recipient.
	Key      string
	User     access.User
	Scope    access.Scope
	Lang     string
	Name     string
	Email    string
	WeComID  string
	DingID   string
	Mobile   string
	External bool
	// Channels are where its copy goes (the recipient's own, else the
	// report's).
	Channels []string
}

// Display is the recipient's name for people.
func (p Principal) Display() string {
	if p.Name != "" {
		return p.Name
	}
	if p.Email != "" {
		return p.Email
	}
	return p.Key
}

var slugRE = regexp.MustCompile(`[^a-z0-9._@-]+`)

func slug(s string) string {
	s = strings.Trim(slugRE.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// externalUser is the stand-in account an external recipient's copy is
// rendered as: its role gives exactly the bound scope (access.ScopeFor).
// It exists only in the sessions of the render, never in the users table.
func externalUser(key, name string, sc access.Scope) access.User {
	u := access.User{Username: "report:" + strings.TrimPrefix(key, "ext:"), Name: name}
	switch {
	case sc.All:
		u.Role = access.RoleExecutive
	case sc.Org != "":
		u.Role, u.OrgUnit = access.RoleAnalyst, sc.Org
	default:
		u.Role, u.RepID = access.RoleRep, sc.Rep
	}
	return u
}

// Resolve turns a report's recipients into principals, each once (a user
// named twice, or found by a role and an org unit, gets one copy).
// Recipients the owner may not send to are left out; notes say who was
// left out and why (a disabled or unknown user, someone outside the
// owner's subtree).
func (s *Service) Resolve(ctx context.Context, r *Report) ([]Principal, []string, error) {
	users, err := s.access.Users(ctx)
	if err != nil {
		return nil, nil, err
	}
	profiles, err := s.access.Profiles(ctx)
	if err != nil {
		return nil, nil, err
	}
	byName := map[string]access.User{}
	for _, u := range users {
		byName[u.Username] = u
	}
	var out []Principal
	var notes []string
	index := map[string]int{}
	add := func(p Principal, channels []string) {
		if len(channels) == 0 {
			channels = r.Channels
		}
		if i, ok := index[p.Key]; ok {
			for _, ch := range channels {
				if !slices.Contains(out[i].Channels, ch) {
					out[i].Channels = append(out[i].Channels, ch)
				}
			}
			return
		}
		p.Channels = slices.Clone(channels)
		index[p.Key] = len(out)
		out = append(out, p)
	}
	fromUser := func(u access.User) Principal {
		pr := profiles[u.Username]
		lang := pr.Lang
		if lang == "" {
			lang = s.cfg.Lang
		}
		return Principal{Key: u.Username, User: u, Scope: access.ScopeFor(u), Lang: lang, Name: firstNonEmpty(u.Name, u.Username),
			Email: pr.Email, WeComID: pr.WeComUserID, DingID: pr.DingTalkUserID, Mobile: pr.Mobile}
	}
	for _, rc := range r.Recipients {
		switch {
		case rc.User != "":
			u, ok := byName[rc.User]
			switch {
			case !ok:
				notes = append(notes, fmt.Sprintf("user %s does not exist: left out", rc.User))
			case u.Disabled:
				notes = append(notes, fmt.Sprintf("user %s is disabled: left out", rc.User))
			default:
				add(fromUser(u), rc.Channels)
			}
		case rc.Role != "" || rc.OrgUnit != "":
			var units, reps map[string]bool
			if rc.OrgUnit != "" {
				units, reps, err = s.members(ctx, rc.OrgUnit)
				if err != nil {
					return nil, nil, err
				}
				if len(units) == 0 {
					notes = append(notes, fmt.Sprintf("org unit %s does not exist", rc.OrgUnit))
				}
			}
			n := 0
			for _, u := range users {
				if u.Disabled || (rc.Role != "" && u.Role != rc.Role) {
					continue
				}
				if rc.OrgUnit != "" {
					sc := access.ScopeFor(u)
					if !(sc.Org != "" && units[sc.Org] || sc.Rep != "" && reps[sc.Rep]) {
						continue
					}
				}
				add(fromUser(u), rc.Channels)
				n++
			}
			if n == 0 {
				notes = append(notes, fmt.Sprintf("no user is %s", describeGroup(rc)))
			}
		default:
			sc, err := ParseScope(rc.Scope, s.cfg.Scopes)
			if err != nil {
				notes = append(notes, fmt.Sprintf("external recipient %s: %v: left out", firstNonEmpty(rc.Email, rc.Name), err))
				continue
			}
			key := "ext:" + slug(firstNonEmpty(rc.Email, rc.Name))
			lang := rc.Lang
			if lang == "" {
				lang = s.cfg.Lang
			}
			name := firstNonEmpty(rc.Name, rc.Email)
			add(Principal{Key: key, User: externalUser(key, name, sc), Scope: sc, Lang: lang, Name: name, Email: rc.Email,
				WeComID: rc.WeComID, DingID: rc.DingID, Mobile: rc.Mobile, External: true}, rc.Channels)
		}
	}
	allowed, why, err := s.allowedFor(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	kept := out[:0]
	for _, p := range out {
		if allowed(p) {
			kept = append(kept, p)
		} else {
			notes = append(notes, fmt.Sprintf("%s left out: %s", p.Display(), why))
		}
	}
	return kept, notes, nil
}

func describeGroup(rc Recipient) string {
	switch {
	case rc.Role != "" && rc.OrgUnit != "":
		return fmt.Sprintf("a %s under %s", rc.Role, rc.OrgUnit)
	case rc.Role != "":
		return "a " + rc.Role
	}
	return "under " + rc.OrgUnit
}

// allowedFor says whom a report's owner may send it to: a report defined
// in a file, or owned by an administrator, goes to anyone; a manager's to
// themselves and to users and external recipients whose scope lies in
// their subtree; anyone else's to themselves only.
func (s *Service) allowedFor(ctx context.Context, r *Report) (func(Principal) bool, string, error) {
	if r.Source == "file" {
		return func(Principal) bool { return true }, "", nil
	}
	owner, err := s.access.User(ctx, r.Owner)
	if err != nil {
		return func(Principal) bool { return false }, fmt.Sprintf("the owner %s is not a user", r.Owner), nil
	}
	if owner.Disabled {
		return func(Principal) bool { return false }, fmt.Sprintf("the owner %s is disabled", r.Owner), nil
	}
	self := func(p Principal) bool { return !p.External && p.Key == owner.Username }
	switch owner.Role {
	case access.RoleAdmin:
		return func(Principal) bool { return true }, "", nil
	case access.RoleManager:
		inside, err := s.subtree(ctx, owner.OrgUnit)
		if err != nil {
			return nil, "", err
		}
		return func(p Principal) bool { return self(p) || inside(p.Scope) },
			fmt.Sprintf("outside the subtree of its owner %s", owner.Username), nil
	}
	return self, fmt.Sprintf("its owner %s may send it only to themselves", owner.Username), nil
}

// subtree returns a test of whether a scope lies inside an org unit's
// subtree (an All scope never does).
func (s *Service) subtree(ctx context.Context, unit string) (func(access.Scope) bool, error) {
	units, reps, err := s.members(ctx, unit)
	if err != nil {
		return nil, err
	}
	return func(sc access.Scope) bool {
		return !sc.All && !sc.Empty() && (sc.Org == "" || units[sc.Org]) && (sc.Rep == "" || reps[sc.Rep])
	}, nil
}

// members lists the units and reps under an org unit.
func (s *Service) members(ctx context.Context, unit string) (units, reps map[string]bool, err error) {
	units, reps = map[string]bool{}, map[string]bool{}
	if unit == "" {
		return units, reps, nil
	}
	e, err := s.engine.Env(ctx, query.Request{Lang: "en", Scope: access.Scope{All: true}})
	if err != nil {
		return nil, nil, err
	}
	res, err := s.engine.Query(e, "reports_members.sql", map[string]any{"unit": unit})
	if err != nil {
		return nil, nil, err
	}
	for i := range res.Rows {
		if res.Str(i, "kind") == "unit" {
			units[res.Str(i, "id")] = true
		} else {
			reps[res.Str(i, "id")] = true
		}
	}
	return units, reps, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
