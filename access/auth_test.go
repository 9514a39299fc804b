package access

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with the expected parameters", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		ok, err := VerifyPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("verify %q = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if _, err := VerifyPassword("$2a$10$bcrypt", "x"); err == nil {
		t.Error("a non-argon2id hash verified without error")
	}
}

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "access.duckdb"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUsersAndSessions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }

	if err := s.AddUser(ctx, User{Username: "m", Role: RoleManager}, "password1"); err == nil {
		t.Fatal("a manager without an org unit was accepted")
	}
	if err := s.AddUser(ctx, User{Username: "m", Role: RoleManager, OrgUnit: "ORG-1"}, "short"); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if err := s.AddUser(ctx, User{Username: "m", Role: RoleManager, OrgUnit: "ORG-1"}, "password1"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, User{Username: "m", Role: RoleExecutive}, "password1"); !errors.Is(err, ErrUserExists) {
		t.Fatalf("adding a user twice: %v", err)
	}
	if _, err := s.Authenticate(ctx, "m", "password2"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := s.Authenticate(ctx, "nobody", "password1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	u, err := s.Authenticate(ctx, "m", "password1")
	if err != nil || u.OrgUnit != "ORG-1" {
		t.Fatalf("login: %+v %v", u, err)
	}

	token, sess, err := s.CreateSession(ctx, u, "10.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 43 || sess.ID == token || len(sess.CSRF) < 43 {
		t.Fatalf("token %q / id %q / csrf %q: want 32 random bytes, stored hashed", token, sess.ID, sess.CSRF)
	}
	var stored int
	s.db.QueryRow("SELECT count(*) FROM sessions WHERE session_id = $1", token).Scan(&stored)
	if stored != 0 {
		t.Fatal("the raw token is stored in the sessions table")
	}
	// Idle expiry: used every 20 minutes, the session lives on.
	for i := 0; i < 5; i++ {
		now = now.Add(20 * time.Minute)
		if _, err := s.Session(ctx, token); err != nil {
			t.Fatalf("after %d×20 min of activity: %v", i+1, err)
		}
	}
	// 31 minutes idle: gone.
	now = now.Add(31 * time.Minute)
	if _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after 31 idle minutes: %v", err)
	}
	// Absolute expiry: 12 hours even when active.
	token, _, _ = s.CreateSession(ctx, u, "10.0.0.1", "test")
	start := now
	for now.Add(25*time.Minute).Sub(start) < 12*time.Hour {
		now = now.Add(25 * time.Minute)
		if _, err := s.Session(ctx, token); err != nil {
			t.Fatalf("active session ended after %v: %v", now.Sub(start), err)
		}
	}
	now = start.Add(12*time.Hour + time.Minute)
	if _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after 12 h: %v", err)
	}
	// A session survives a restart (read back from the file), and ends when
	// the password changes or the user is disabled.
	token, _, _ = s.CreateSession(ctx, u, "10.0.0.1", "test")
	s.sessions = map[string]*Session{}
	if got, err := s.Session(ctx, token); err != nil || got.User.Username != "m" {
		t.Fatalf("session after restart: %+v %v", got, err)
	}
	if err := s.SetPassword(ctx, "m", "password2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session after password change: %v", err)
	}
	token, _, _ = s.CreateSession(ctx, u, "10.0.0.1", "test")
	if err := s.SetDisabled(ctx, "m", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	if _, err := s.Authenticate(ctx, "m", "password2"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled user logs in: %v", err)
	}

	if err := s.Audit(ctx, Event{Username: "m", Action: "export", Detail: map[string]any{"rows": 3}}); err != nil {
		t.Fatal(err)
	}
	ev, err := s.AuditLog(ctx, 10)
	if err != nil || len(ev) != 1 || ev[0].Action != "export" || ev[0].Detail["rows"].(float64) != 3 {
		t.Fatalf("audit log: %+v %v", ev, err)
	}
}

func TestThrottle(t *testing.T) {
	th := NewThrottle()
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	th.now = func() time.Time { return now }
	for i := 0; i < 5; i++ {
		if ok, _ := th.Allowed("alice", "10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
		th.Failed("alice", "10.0.0.1")
		now = now.Add(time.Second)
	}
	if ok, wait := th.Allowed("ALICE", "10.0.0.1"); ok || wait <= 0 {
		t.Fatal("6th attempt on the account from the same address (other case) allowed")
	}
	// Issue 18, finding 10: people behind one NAT address, and the account's
	// owner elsewhere, are not locked out by someone else's failures.
	if ok, _ := th.Allowed("alice", "10.0.0.2"); !ok {
		t.Fatal("the account is locked from another address after 5 failures from one")
	}
	if ok, _ := th.Allowed("bob", "10.0.0.1"); !ok {
		t.Fatal("another account from the same address refused after 5 failures of one")
	}
	now = now.Add(16 * time.Minute)
	if ok, _ := th.Allowed("alice", "10.0.0.1"); !ok {
		t.Fatal("still locked after the lockout")
	}
	// Per account: 50 failures from many addresses lock the account.
	for i := 0; i < 50; i++ {
		th.Failed("carol", fmt.Sprintf("10.1.%d.%d", i/200, i%200))
	}
	if ok, _ := th.Allowed("carol", "10.2.0.1"); ok {
		t.Fatal("account with 50 failures from many addresses not throttled")
	}
	// Per IP: 200 failures over many accounts lock the address.
	for i := 0; i < 200; i++ {
		th.Failed(fmt.Sprintf("user%d", i), "10.9.9.9")
	}
	if ok, _ := th.Allowed("fresh", "10.9.9.9"); ok {
		t.Fatal("address with 200 failures not throttled")
	}
	th.Succeeded("alice", "10.0.0.1")
	if ok, _ := th.Allowed("alice", "10.0.0.3"); !ok {
		t.Fatal("success did not clear the account")
	}
}

func TestAPITokens(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.AddUser(ctx, User{Username: "ana", Role: RoleAnalyst, OrgUnit: "ORG-1"}, "a-long-password"); err != nil {
		t.Fatal(err)
	}
	tok, secret, err := s.CreateToken(ctx, "ana", "nightly export")
	if err != nil || !strings.HasPrefix(secret, TokenPrefix) || tok.ID == "" {
		t.Fatalf("create: %+v %q %v", tok, secret, err)
	}
	u, err := s.AuthenticateToken(ctx, secret)
	if err != nil || u.Username != "ana" || ScopeFor(u).Org != "ORG-1" {
		t.Fatalf("authenticate: %+v %v", u, err)
	}
	var stored string
	s.DB().QueryRow(`SELECT string_agg(token_hash, ',') FROM api_tokens`).Scan(&stored)
	if strings.Contains(stored, secret) || strings.Contains(stored, strings.TrimPrefix(secret, TokenPrefix)) {
		t.Fatal("the secret is stored")
	}
	for _, bad := range []string{"", "tsk_", secret + "x", strings.TrimPrefix(secret, TokenPrefix)} {
		if _, err := s.AuthenticateToken(ctx, bad); err != ErrBadToken {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	list, _ := s.Tokens(ctx, "ana")
	if len(list) != 1 || list[0].Name != "nightly export" || list[0].LastUsedAt == nil {
		t.Fatalf("tokens: %+v", list)
	}
	if err := s.RevokeToken(ctx, "someone-else", tok.ID); err != ErrBadToken {
		t.Errorf("another user revoked the token: %v", err)
	}
	if err := s.RevokeToken(ctx, "ana", tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateToken(ctx, secret); err != ErrBadToken {
		t.Errorf("a revoked token works: %v", err)
	}
	// A disabled user's tokens stop working.
	_, secret2, _ := s.CreateToken(ctx, "ana", "bi tool")
	s.SetDisabled(ctx, "ana", true)
	if _, err := s.AuthenticateToken(ctx, secret2); err != ErrDisabled {
		t.Errorf("a disabled user's token: %v", err)
	}
}
