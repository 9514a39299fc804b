package access

// Scope is what a user may see. The zero Scope sees nothing (deny by default).
//
// # Who owns a row
//
// Every row of customer data has an owner rep and an owner org unit
// (the facts the models build on the write path, models/sql/facts.sql):
//
//	customers      owner_rep_id = customers.owner_rep_id,
//	               owner_org    = customers.org_unit_id (else the owner rep's unit)
//	opportunities, owner_rep_id = the row's owner_rep_id (else the customer's owner),
//	contracts      owner_org    = that rep's org unit (else the customer's org unit)
//	payments       the owner of the paid contract (else of the customer)
//	activities     the customer's owner, else the rep who logged it
//	targets        a rep target: the rep and the rep's unit; an org target: its unit
//
// A user sees a row when the scope is All (executive, admin), or the row's
// owner rep is the scope's Rep (a rep: their own customers and deals), or
// the row's owner org unit is the scope's Org or below it in the org tree (a
// manager: their subtree; an analyst: the unit assigned to them). Anything
// missing means "no": a user without a scope sees no rows.
//
// # Which figures a user may see (the scope rule)
//
// A figure is visible to a user only if every row it is computed from is
// visible to that user. A customer-level total computed over another rep's
// contracts shows those contracts. So:
//
//   - model rows keyed by a customer, a contract or a deal are visible only
//     where every row they are computed from is: a customer's RFM, CLV or
//     margin only when all of the customer's contracts, payments and deals
//     are in the scope ("wholly visible"); a contract's execution when the
//     contract is; a collision pair when both deals are;
//   - model rows keyed by an org unit are visible to a user whose subtree
//     holds the unit (its figures come from rows below it); rows keyed by a
//     rep to that rep and to users whose subtree holds the rep's unit;
//   - rows grouped by anything else (company totals, by industry, by
//     competitor across owners) are visible only to an All scope;
//   - the one exception is a configured list of company benchmarks (the
//     median days in a stage, the company win rate, the population the RFM
//     quintiles and the CLV model are fitted on), shown to everyone and
//     labelled as company benchmarks;
//   - where rows are hidden a page may say so ("some contracts of this
//     customer belong to other reps and are not shown"), never with a count
//     or an amount.
//
// The rule is implemented once, as SQL: the relations of schema scoped
// (access/sql/scoped.sql), table macros that take the scope as their three
// arguments. Chart, report and ad hoc SQL read customer data only through
// them; query.Engine binds the scope of the request (Params).
type Scope struct {
	All bool   // executive, admin
	Org string // manager, analyst: this org unit and everything below it
	Rep string // rep: their own customers and deals
}

// ScopeFor maps a user's role to their data scope (deny by default): admin
// and executive see everything; a manager their org unit's subtree; an
// analyst the org unit assigned to them; a rep their own customers and deals.
// A disabled user, an unknown role, or a role without its unit or rep sees
// nothing.
func ScopeFor(u User) Scope {
	if u.Disabled {
		return Scope{}
	}
	switch u.Role {
	case RoleAdmin, RoleExecutive:
		return Scope{All: true}
	case RoleManager, RoleAnalyst:
		return Scope{Org: u.OrgUnit}
	case RoleRep:
		return Scope{Rep: u.RepID}
	}
	return Scope{}
}

// Empty reports whether the scope sees nothing.
func (s Scope) Empty() bool { return !s.All && s.Org == "" && s.Rep == "" }

// Key identifies the scope in cache keys and logs.
func (s Scope) Key() string {
	switch {
	case s.All:
		return "all"
	case s.Org != "" && s.Rep != "":
		return "org:" + s.Org + "+rep:" + s.Rep
	case s.Org != "":
		return "org:" + s.Org
	case s.Rep != "":
		return "rep:" + s.Rep
	}
	return "none"
}

// Params are the scope's bound parameters, the arguments of every scoped
// relation: $scope_all, $scope_org, $scope_rep (NULL when not set).
func (s Scope) Params() map[string]any {
	return map[string]any{"scope_all": s.All, "scope_org": nullable(s.Org), "scope_rep": nullable(s.Rep)}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
