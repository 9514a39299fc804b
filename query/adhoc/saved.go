package adhoc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Saved queries and the query history live in the application database
// (component "sql" of its migrations), never in the warehouse analysts
// query. A saved query is a name, a description, SQL with parameters
// ($from) and their defaults, private to its owner or shared with one role;
// reports run them as each recipient (RunSaved).

//go:embed sql/appdb/*.sql
var appdbFS embed.FS

// Migrator is the application database (access.Store).
type Migrator interface {
	Migrate(ctx context.Context, component string, migrations []string) error
	DB() *sql.DB
}

// Store keeps saved queries and the query history.
type Store struct {
	db  *sql.DB
	mu  sync.Mutex // serialises writes
	now func() time.Time
}

// HistoryPerUser is how many queries of a user the history keeps.
const HistoryPerUser = 200

// Bounds of a saved query's fields.
const (
	maxNameRunes = 100
	maxDescRunes = 2000
	maxParams    = 20
)

// OpenStore migrates the tables of component "sql" and returns the store.
func OpenStore(ctx context.Context, m Migrator) (*Store, error) {
	entries, err := appdbFS.ReadDir("sql/appdb")
	if err != nil {
		return nil, err
	}
	var migrations []string
	for i, e := range entries {
		if want := fmt.Sprintf("%04d_", i+1); !strings.HasPrefix(e.Name(), want) {
			return nil, fmt.Errorf("sql migration %s: want a name starting %s", e.Name(), want)
		}
		b, err := appdbFS.ReadFile("sql/appdb/" + e.Name())
		if err != nil {
			return nil, err
		}
		migrations = append(migrations, string(b))
	}
	if err := m.Migrate(ctx, "sql", migrations); err != nil {
		return nil, err
	}
	return &Store{db: m.DB(), now: time.Now}, nil
}

// Param is a parameter of a saved query: $name in its SQL.
type Param struct {
	Name    string `json:"name"`
	Type    string `json:"type,omitempty"` // text (default), number, date
	Default string `json:"default,omitempty"`
}

// Saved is a saved query.
type Saved struct {
	ID          string    `json:"id"`
	Owner       string    `json:"owner"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	SQL         string    `json:"sql"`
	Params      []Param   `json:"params"`
	SharedRole  string    `json:"shared_role,omitempty"` // "" = private
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Viewer is who asks for saved queries: their own and those shared with
// their role.
type Viewer struct {
	Username string
	Role     string
}

// ErrNoSaved is returned for a saved query that does not exist or that the
// viewer may not see.
var ErrNoSaved = errors.New("no such saved query (or it is not shared with you)")

var paramNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Validate checks a saved query's fields and its SQL against the catalog:
// it must pass the guard, and its parameters must be exactly the declared
// ones (named, not positional).
func (q *Saved) Validate(ctx context.Context, cat *Catalog, roles []string) error {
	q.Name = strings.TrimSpace(q.Name)
	if q.Name == "" || utf8.RuneCountInString(q.Name) > maxNameRunes || strings.ContainsAny(q.Name, "\x00\r\n") {
		return fmt.Errorf("a saved query needs a name of 1 to %d characters on one line", maxNameRunes)
	}
	if utf8.RuneCountInString(q.Description) > maxDescRunes {
		return fmt.Errorf("the description is longer than %d characters", maxDescRunes)
	}
	if q.SharedRole != "" && !slices.Contains(roles, q.SharedRole) {
		return fmt.Errorf("share with one of the roles %s, or nobody", strings.Join(roles, ", "))
	}
	if len(q.Params) > maxParams {
		return fmt.Errorf("at most %d parameters", maxParams)
	}
	declared := map[string]bool{}
	for i, p := range q.Params {
		if !paramNameRE.MatchString(p.Name) {
			return fmt.Errorf("parameter %q: a name of letters, digits and _", p.Name)
		}
		if declared[p.Name] {
			return fmt.Errorf("parameter $%s declared twice", p.Name)
		}
		declared[p.Name] = true
		switch p.Type {
		case "":
			q.Params[i].Type = "text"
		case "text", "number", "date":
		default:
			return fmt.Errorf("parameter $%s: type %q; use text, number or date", p.Name, p.Type)
		}
		if _, err := paramValue(q.Params[i], p.Default); err != nil && p.Default != "" {
			return fmt.Errorf("parameter $%s: default: %v", p.Name, err)
		}
	}
	checked, err := CheckContext(ctx, q.SQL, cat)
	if err != nil {
		return err
	}
	for _, p := range checked.Params {
		if _, err := strconv.Atoi(p); err == nil {
			return errors.New("a saved query names its parameters ($from), not numbers ($1)")
		}
		if !declared[p] {
			return fmt.Errorf("the SQL uses $%s: declare it as a parameter", p)
		}
	}
	return nil
}

// paramValue converts a parameter's text to the value bound for its type.
func paramValue(p Param, v string) (any, error) {
	switch p.Type {
	case "number":
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return json.Number(strings.TrimSpace(v)), nil
	case "date":
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%q is not a date like 2025-12-31", v)
		}
		return d.Format(time.DateOnly), nil
	}
	return v, nil
}

// Args are the values of a saved query's parameters: values given (by
// name) over the defaults. A parameter with neither is an error.
func (q *Saved) Args(values map[string]string) (map[string]any, error) {
	out := map[string]any{}
	for _, p := range q.Params {
		v, ok := values[p.Name]
		if !ok {
			v, ok = p.Default, p.Default != ""
		}
		if !ok {
			return nil, fmt.Errorf("no value for parameter $%s", p.Name)
		}
		x, err := paramValue(p, v)
		if err != nil {
			return nil, fmt.Errorf("parameter $%s: %v", p.Name, err)
		}
		out[p.Name] = x
	}
	for k := range values {
		if !slices.ContainsFunc(q.Params, func(p Param) bool { return p.Name == k }) {
			return nil, fmt.Errorf("the query has no parameter $%s", k)
		}
	}
	return out, nil
}

func newID() string {
	b := make([]byte, 9)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Save creates a saved query (ID empty) or updates one of the owner's.
// The caller has validated it (Validate).
func (s *Store) Save(ctx context.Context, q Saved) (Saved, error) {
	params, err := json.Marshal(q.Params)
	if err != nil {
		return q, err
	}
	if q.Params == nil {
		params = []byte("[]")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.ID == "" {
		q.ID, q.CreatedAt, q.UpdatedAt = newID(), now, now
		_, err = s.db.ExecContext(ctx, `INSERT INTO sql_saved_queries (query_id, owner, name, description, sql, params, shared_role, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, q.ID, q.Owner, q.Name, q.Description, q.SQL, string(params), nullString(q.SharedRole), now, now)
	} else {
		var res sql.Result
		res, err = s.db.ExecContext(ctx, `UPDATE sql_saved_queries SET name = $1, description = $2, sql = $3, params = $4, shared_role = $5, updated_at = $6
			WHERE query_id = $7 AND owner = $8`, q.Name, q.Description, q.SQL, string(params), nullString(q.SharedRole), now, q.ID, q.Owner)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				return q, ErrNoSaved
			}
		}
		q.UpdatedAt = now
	}
	if err != nil && strings.Contains(err.Error(), "Constraint") {
		return q, fmt.Errorf("you already have a saved query named %q", q.Name)
	}
	return q, err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const savedColumns = `query_id, owner, name, description, sql, params, coalesce(shared_role, ''), created_at, updated_at`

func scanSaved(sc interface{ Scan(...any) error }) (Saved, error) {
	var q Saved
	var params string
	if err := sc.Scan(&q.ID, &q.Owner, &q.Name, &q.Description, &q.SQL, &params, &q.SharedRole, &q.CreatedAt, &q.UpdatedAt); err != nil {
		return q, err
	}
	if err := json.Unmarshal([]byte(params), &q.Params); err != nil {
		return q, err
	}
	if q.Params == nil {
		q.Params = []Param{}
	}
	return q, nil
}

// List is the saved queries a viewer may run: their own, then those
// shared with their role, by name.
func (s *Store) List(ctx context.Context, v Viewer) ([]Saved, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+savedColumns+` FROM sql_saved_queries
		WHERE owner = $1 OR shared_role = $2 ORDER BY owner <> $1, lower(name), query_id`, v.Username, v.Role)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Saved{}
	for rows.Next() {
		q, err := scanSaved(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// Get finds a saved query the viewer may see by its ID, or by its name
// (the viewer's own first, then one shared with their role).
func (s *Store) Get(ctx context.Context, v Viewer, ref string) (Saved, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+savedColumns+` FROM sql_saved_queries
		WHERE (query_id = $1 OR name = $1) AND (owner = $2 OR shared_role = $3)
		ORDER BY query_id <> $1, owner <> $2, created_at LIMIT 1`, ref, v.Username, v.Role)
	q, err := scanSaved(row)
	if errors.Is(err, sql.ErrNoRows) {
		return q, ErrNoSaved
	}
	return q, err
}

// Delete removes one of the owner's saved queries.
func (s *Store) Delete(ctx context.Context, owner, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.db.ExecContext(ctx, `DELETE FROM sql_saved_queries WHERE query_id = $1 AND owner = $2`, id, owner)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNoSaved
	}
	return nil
}

// RunSaved runs a saved query (by ID or name) as the given user with their
// scope: the query's SQL is checked again against today's catalog, its
// parameters take the values given over their defaults. Reports call it
// for each recipient. entry names the caller in the audit trail.
func (s *Store) RunSaved(ctx context.Context, sb *Sandbox, ref string, v Viewer, admin bool, scope Scope, params map[string]string, entry string) (*Result, *Saved, error) {
	q, err := s.Get(ctx, v, ref)
	if err != nil {
		return nil, nil, err
	}
	args, err := q.Args(params)
	if err != nil {
		return nil, &q, &Error{Class: Syntax, Message: err.Error(), Position: -1}
	}
	if entry == "" {
		entry = "saved"
	}
	res, err := sb.Run(ctx, Request{User: v.Username, Admin: admin, Entry: entry, Scope: scope, SQL: q.SQL, Args: args})
	return res, &q, err
}

// HistoryEntry is one query a user ran.
type HistoryEntry struct {
	ID      int64     `json:"id"`
	User    string    `json:"-"`
	At      time.Time `json:"at"`
	Entry   string    `json:"entry"`
	SQL     string    `json:"sql"`
	Rows    int64     `json:"rows"`
	Elapsed float64   `json:"elapsed_ms"`
	Outcome string    `json:"outcome"`
}

// Record adds a query to its user's history and keeps the newest
// HistoryPerUser.
func (s *Store) Record(ctx context.Context, e HistoryEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	if len(e.SQL) > MaxSQLBytes {
		e.SQL = e.SQL[:MaxSQLBytes]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sql_history (username, ran_at, entry, sql, rows, elapsed_ms, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.User, e.At, e.Entry, e.SQL, e.Rows, e.Elapsed, e.Outcome); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM sql_history WHERE username = $1 AND id <= (
		SELECT id FROM sql_history WHERE username = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`, e.User, HistoryPerUser)
	return err
}

// History is a user's newest queries first.
func (s *Store) History(ctx context.Context, username string, limit int) ([]HistoryEntry, error) {
	if limit <= 0 || limit > HistoryPerUser {
		limit = HistoryPerUser
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, ran_at, entry, sql, rows, elapsed_ms, outcome FROM sql_history
		WHERE username = $1 ORDER BY id DESC LIMIT $2`, username, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []HistoryEntry{}
	for rows.Next() {
		e := HistoryEntry{User: username}
		if err := rows.Scan(&e.ID, &e.At, &e.Entry, &e.SQL, &e.Rows, &e.Elapsed, &e.Outcome); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
