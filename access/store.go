// Package auth keeps the dashboard users, their sessions and the audit trail in
// a DuckDB file of its own (never in the warehouse that analysts query), hashes
// passwords with argon2id and throttles login attempts.
package access

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
)

// Roles. Each role maps to a data scope (see dashboards/query.ScopeFor).
const (
	RoleAdmin     = "admin"     // everything, and user administration
	RoleExecutive = "executive" // all data
	RoleManager   = "manager"   // their org unit and everything below it
	RoleRep       = "rep"       // their own customers and deals
	RoleAnalyst   = "analyst"   // an assigned org unit (subtree)
)

// Roles lists the valid roles.
var Roles = []string{RoleAdmin, RoleExecutive, RoleManager, RoleRep, RoleAnalyst}

// Session lifetimes.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	touchEvery      = time.Minute // how often last_seen is written back to the file
)

// Errors returned by Authenticate and the user commands.
var (
	ErrBadCredentials = errors.New("unknown user or wrong password")
	ErrDisabled       = errors.New("account disabled")
	ErrNoSession      = errors.New("no valid session")
	ErrUserExists     = errors.New("user already exists")
	ErrNoUser         = errors.New("no such user")
)

// User is a dashboard account.
type User struct {
	Username  string    `json:"username"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	OrgUnit   string    `json:"org_unit_id,omitempty"` // manager, analyst: the root of their scope
	RepID     string    `json:"rep_id,omitempty"`      // rep: whose customers and deals
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Session is a logged-in browser.
type Session struct {
	ID        string // sha256 of the cookie token (the token itself is never stored)
	User      User
	CSRF      string
	CreatedAt time.Time
	LastSeen  time.Time
	IP        string

	lastWritten time.Time
}

// Expired reports whether the session has passed its idle or absolute limit at now.
func (s *Session) Expired(now time.Time) bool {
	return now.Sub(s.LastSeen) > IdleTimeout || now.Sub(s.CreatedAt) > AbsoluteTimeout
}

// Store is the users/sessions/audit file.
type Store struct {
	db   *sql.DB
	path string
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex // serialises writes and guards sessions
	sessions map[string]*Session
}

//go:embed sql/appdb/*.sql
var appdbFS embed.FS

// migrations are the application database tables of this package, in order.
func migrations() ([]string, error) {
	entries, err := appdbFS.ReadDir("sql/appdb")
	if err != nil {
		return nil, err
	}
	var out []string
	for i, e := range entries { // ReadDir sorts by name: 0001_…, 0002_…
		// The file's number is its version: no gap, no duplicate (two
		// branches adding the same number must renumber before they merge).
		if want := fmt.Sprintf("%04d_", i+1); !strings.HasPrefix(e.Name(), want) {
			return nil, fmt.Errorf("application database migration %s: want a name starting %s", e.Name(), want)
		}
		b, err := appdbFS.ReadFile("sql/appdb/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// Open opens (or creates) the auth file. Only one process may have it open.
func Open(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, fmt.Errorf("open auth database %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open auth database %s: %w (is a triscope server using it? stop it first)", path, err)
	}
	st := &Store{db: db, path: path, log: log, now: time.Now, sessions: map[string]*Session{}}
	ms, err := migrations()
	if err == nil {
		err = st.Migrate(ctx, "access", ms)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return st, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the file is usable (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

var usernameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$`)

// Validate checks a user's role and the fields the role needs.
func (u User) Validate() error {
	if !usernameRE.MatchString(u.Username) {
		return fmt.Errorf("username %q: use 1-64 letters, digits, '.', '_', '@' or '-'", u.Username)
	}
	switch u.Role {
	case RoleAdmin, RoleExecutive:
	case RoleManager, RoleAnalyst:
		if u.OrgUnit == "" {
			return fmt.Errorf("role %s needs --org-unit (the root of what they may see)", u.Role)
		}
	case RoleRep:
		if u.RepID == "" {
			return fmt.Errorf("role rep needs --rep (the rep_id whose customers and deals they see)")
		}
	default:
		return fmt.Errorf("unknown role %q; roles are %s", u.Role, strings.Join(Roles, ", "))
	}
	return nil
}

// AddUser creates a user; it fails if the username is taken.
func (s *Store) AddUser(ctx context.Context, u User, password string) error {
	return s.putUser(ctx, u, password, false)
}

// PutUser creates or replaces a user (role, scope, password) and ends their
// sessions; used by `triscope demo` to (re)create the demo accounts.
func (s *Store) PutUser(ctx context.Context, u User, password string) error {
	return s.putUser(ctx, u, password, true)
}

func (s *Store) putUser(ctx context.Context, u User, password string, replace bool) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var exists bool
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) > 0 FROM users WHERE username = $1", u.Username).Scan(&exists); err != nil {
		return err
	}
	if exists && !replace {
		return fmt.Errorf("%w: %s", ErrUserExists, u.Username)
	}
	if exists {
		_, err = s.db.ExecContext(ctx, `UPDATE users SET name = $2, role = $3, org_unit_id = $4, rep_id = $5,
			password_hash = $6, disabled = $7, updated_at = $8 WHERE username = $1`,
			u.Username, nullStr(u.Name), u.Role, nullStr(u.OrgUnit), nullStr(u.RepID), hash, u.Disabled, now)
		if err == nil {
			err = s.dropSessionsLocked(ctx, u.Username)
		}
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO users VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
		u.Username, nullStr(u.Name), u.Role, nullStr(u.OrgUnit), nullStr(u.RepID), hash, u.Disabled, now)
	return err
}

func checkPassword(p string) error {
	if len([]rune(p)) < 8 {
		return errors.New("password too short: use at least 8 characters")
	}
	if len(p) > 1024 {
		return errors.New("password too long")
	}
	return nil
}

// SetPassword changes a password and ends the user's sessions.
func (s *Store) SetPassword(ctx context.Context, username, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.db.ExecContext(ctx, "UPDATE users SET password_hash = $2, updated_at = $3 WHERE username = $1", username, hash, s.now())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNoUser, username)
	}
	return s.dropSessionsLocked(ctx, username)
}

// SetDisabled disables (or re-enables) an account; disabling ends its sessions.
func (s *Store) SetDisabled(ctx context.Context, username string, disabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.db.ExecContext(ctx, "UPDATE users SET disabled = $2, updated_at = $3 WHERE username = $1", username, disabled, s.now())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNoUser, username)
	}
	if disabled {
		return s.dropSessionsLocked(ctx, username)
	}
	return nil
}

// Users lists the accounts.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT username, coalesce(name, ''), role, coalesce(org_unit_id, ''), coalesce(rep_id, ''),
		disabled, created_at FROM users ORDER BY username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.Username, &u.Name, &u.Role, &u.OrgUnit, &u.RepID, &u.Disabled, &u.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Store) user(ctx context.Context, username string) (User, string, error) {
	var u User
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT username, coalesce(name, ''), role, coalesce(org_unit_id, ''), coalesce(rep_id, ''),
		disabled, created_at, password_hash FROM users WHERE username = $1`, username).
		Scan(&u.Username, &u.Name, &u.Role, &u.OrgUnit, &u.RepID, &u.Disabled, &u.CreatedAt, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, "", ErrNoUser
	}
	return u, hash, err
}

// Authenticate checks a username and password. Unknown users cost the same
// time as known ones.
func (s *Store) Authenticate(ctx context.Context, username, password string) (User, error) {
	u, hash, err := s.user(ctx, username)
	if errors.Is(err, ErrNoUser) {
		VerifyPassword(dummyHash, password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, err
	}
	ok, err := VerifyPassword(hash, password)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, ErrBadCredentials
	}
	if u.Disabled {
		return User{}, ErrDisabled
	}
	return u, nil
}

func sessionID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateSession starts a session for u and returns the cookie token (32 random
// bytes). Only its hash is stored.
func (s *Store) CreateSession(ctx context.Context, u User, ip, userAgent string) (string, *Session, error) {
	token := RandomToken(32)
	now := s.now()
	sess := &Session{ID: sessionID(token), User: u, CSRF: RandomToken(32), CreatedAt: now, LastSeen: now, IP: ip, lastWritten: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.db.ExecContext(ctx, "INSERT INTO sessions VALUES ($1, $2, $3, $4, $4, $5, $6)",
		sess.ID, u.Username, sess.CSRF, now, ip, truncate(userAgent, 300)); err != nil {
		return "", nil, err
	}
	s.sessions[sess.ID] = sess
	return token, sess, nil
}

// Session returns the live session for a cookie token and marks it used.
// Expired sessions are deleted and reported as ErrNoSession.
func (s *Store) Session(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	id := sessionID(token)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		// Sessions survive a server restart: load from the file.
		var username string
		sess = &Session{ID: id}
		err := s.db.QueryRowContext(ctx, "SELECT username, csrf_token, created_at, last_seen, coalesce(ip, '') FROM sessions WHERE session_id = $1", id).
			Scan(&username, &sess.CSRF, &sess.CreatedAt, &sess.LastSeen, &sess.IP)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoSession
		}
		if err != nil {
			return nil, err
		}
		u, _, err := s.user(ctx, username)
		if err != nil || u.Disabled {
			s.db.ExecContext(ctx, "DELETE FROM sessions WHERE session_id = $1", id)
			return nil, ErrNoSession
		}
		sess.User = u
		sess.lastWritten = sess.LastSeen
		s.sessions[id] = sess
	}
	if sess.Expired(now) {
		delete(s.sessions, id)
		s.db.ExecContext(ctx, "DELETE FROM sessions WHERE session_id = $1", id)
		return nil, ErrNoSession
	}
	sess.LastSeen = now
	if now.Sub(sess.lastWritten) > touchEvery {
		sess.lastWritten = now
		if _, err := s.db.ExecContext(ctx, "UPDATE sessions SET last_seen = $2 WHERE session_id = $1", id, now); err != nil {
			s.log.Warn("session touch", "err", err)
		}
	}
	cp := *sess
	return &cp, nil
}

// DeleteSession ends the session of a cookie token (logout).
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	id := sessionID(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
	_, err := s.db.ExecContext(ctx, "DELETE FROM sessions WHERE session_id = $1", id)
	return err
}

func (s *Store) dropSessionsLocked(ctx context.Context, username string) error {
	for id, sess := range s.sessions {
		if sess.User.Username == username {
			delete(s.sessions, id)
		}
	}
	_, err := s.db.ExecContext(ctx, "DELETE FROM sessions WHERE username = $1", username)
	return err
}

// PurgeExpired deletes sessions past their limits (run periodically).
func (s *Store) PurgeExpired(ctx context.Context) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sess := range s.sessions {
		if sess.Expired(now) {
			delete(s.sessions, id)
		}
	}
	_, err := s.db.ExecContext(ctx, "DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2", now.Add(-IdleTimeout), now.Add(-AbsoluteTimeout))
	return err
}

// Event is one line of the audit trail.
type Event struct {
	At        time.Time      `json:"at"`
	Username  string         `json:"username"`
	Action    string         `json:"action"` // login, login_failed, login_throttled, logout, export, user_add, ...
	IP        string         `json:"ip"`
	RequestID string         `json:"request_id"`
	Detail    map[string]any `json:"detail,omitempty"`
}

// Audit appends an event. Failures are logged, never silently dropped.
func (s *Store) Audit(ctx context.Context, e Event) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	var detail any
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return err
		}
		detail = string(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.db.ExecContext(ctx, "INSERT INTO audit_log (occurred_at, username, action, ip, request_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
		e.At, nullStr(e.Username), e.Action, nullStr(e.IP), nullStr(e.RequestID), detail)
	if err != nil {
		s.log.Error("audit write failed", "action", e.Action, "user", e.Username, "err", err)
	}
	return err
}

// AuditLog returns the latest events, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT occurred_at, coalesce(username, ''), action, coalesce(ip, ''), coalesce(request_id, ''), coalesce(detail, '')
		FROM audit_log ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var detail string
		if err := rows.Scan(&e.At, &e.Username, &e.Action, &e.IP, &e.RequestID, &detail); err != nil {
			return nil, err
		}
		if detail != "" {
			json.Unmarshal([]byte(detail), &e.Detail)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
