package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// API tokens: a user creates a named token for a script or a BI tool, sees
// the secret once, and revokes it when done. A request with the token acts
// as the user, with the user's role and scope at the time of the request (a
// disabled user's tokens stop working). Only the secret's SHA-256 is kept.

// TokenPrefix starts every token secret, so that a leaked one is easy to
// recognise (and to search for in logs and repositories).
const TokenPrefix = "tsk_"

// MaxTokensPerUser bounds the live tokens of one user.
const MaxTokensPerUser = 20

// ErrBadToken is returned for an unknown, revoked or malformed token.
var ErrBadToken = errors.New("unknown or revoked API token")

// Token is an API token as its owner sees it (never the secret).
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateToken makes a token for username and returns it with its secret,
// which is shown once and never again.
func (s *Store) CreateToken(ctx context.Context, username, name string) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return Token{}, "", errors.New("give the token a name of 1 to 100 characters (what uses it)")
	}
	if _, _, err := s.user(ctx, username); err != nil {
		return Token{}, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var live int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE username = $1 AND revoked_at IS NULL`, username).Scan(&live); err != nil {
		return Token{}, "", err
	}
	if live >= MaxTokensPerUser {
		return Token{}, "", fmt.Errorf("%s has %d API tokens already: revoke one first", username, live)
	}
	secret := TokenPrefix + RandomToken(32)
	t := Token{ID: RandomToken(8), Name: name, CreatedAt: s.now()}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (token_id, username, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		t.ID, username, name, sessionID(secret), t.CreatedAt); err != nil {
		return Token{}, "", fmt.Errorf("creating the token: %w", err)
	}
	return t, secret, nil
}

// Tokens lists a user's tokens, newest first.
func (s *Store) Tokens(ctx context.Context, username string) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT token_id, name, created_at, last_used_at, revoked_at FROM api_tokens
		WHERE username = $1 ORDER BY created_at DESC, token_id`, username)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var used, revoked sql.NullTime
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt, &used, &revoked); err != nil {
			return nil, err
		}
		if used.Valid {
			t.LastUsedAt = &used.Time
		}
		if revoked.Valid {
			t.RevokedAt = &revoked.Time
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of username's tokens.
func (s *Store) RevokeToken(ctx context.Context, username, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE token_id = $2 AND username = $3 AND revoked_at IS NULL`,
		s.now(), id, username)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrBadToken
	}
	return nil
}

// AuthenticateToken returns the user a token acts as.
func (s *Store) AuthenticateToken(ctx context.Context, secret string) (User, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return User{}, ErrBadToken
	}
	var username, id string
	err := s.db.QueryRowContext(ctx, `SELECT username, token_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
		sessionID(secret)).Scan(&username, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrBadToken
	}
	if err != nil {
		return User{}, err
	}
	u, _, err := s.user(ctx, username)
	if err != nil {
		return User{}, ErrBadToken
	}
	if u.Disabled {
		return User{}, ErrDisabled
	}
	s.mu.Lock()
	s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE token_id = $2`, s.now(), id)
	s.mu.Unlock()
	return u, nil
}
