package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
)

// Profile is where a user's reports go and the language they read them in
// (migration 0003). Users edit their own language (and password) on the
// settings page; administrators set the rest.
type Profile struct {
	Username       string `json:"username"`
	Email          string `json:"email,omitempty"`
	Lang           string `json:"lang,omitempty"` // zh-CN or en; "" = the reader's browser decides
	WeComUserID    string `json:"wecom_userid,omitempty"`
	DingTalkUserID string `json:"dingtalk_userid,omitempty"`
	Mobile         string `json:"mobile,omitempty"`
}

var (
	robotIDRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)
	mobileRE  = regexp.MustCompile(`^\+?[0-9]{5,20}$`)
)

// Validate checks a profile's fields: a plain mailbox (no display name, at
// most 254 characters), a supported language, robot ids and a mobile number
// of the usual characters.
func (p Profile) Validate() error {
	if p.Email != "" {
		a, err := mail.ParseAddress(p.Email)
		if err != nil || a.Address != p.Email || len(p.Email) > 254 {
			return fmt.Errorf("email %q is not a plain address like name@example.com", p.Email)
		}
	}
	switch p.Lang {
	case "", "zh-CN", "en":
	default:
		return fmt.Errorf("language %q: use zh-CN or en", p.Lang)
	}
	if p.WeComUserID != "" && !robotIDRE.MatchString(p.WeComUserID) {
		return fmt.Errorf("WeCom user id %q: use at most 64 letters, digits, '.', '_', '@' or '-'", p.WeComUserID)
	}
	if p.DingTalkUserID != "" && !robotIDRE.MatchString(p.DingTalkUserID) {
		return fmt.Errorf("DingTalk user id %q: use at most 64 letters, digits, '.', '_', '@' or '-'", p.DingTalkUserID)
	}
	if p.Mobile != "" && !mobileRE.MatchString(p.Mobile) {
		return fmt.Errorf("mobile %q: digits only, optionally after a +", p.Mobile)
	}
	return nil
}

// User returns one account (ErrNoUser when there is none).
func (s *Store) User(ctx context.Context, username string) (User, error) {
	u, _, err := s.user(ctx, username)
	return u, err
}

// Profile returns a user's profile (empty fields when none was set;
// ErrNoUser for an unknown user).
func (s *Store) Profile(ctx context.Context, username string) (Profile, error) {
	if _, err := s.User(ctx, username); err != nil {
		return Profile{}, err
	}
	p := Profile{Username: username}
	var email, lang, wecom, ding, mobile sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT email, lang, wecom_userid, dingtalk_userid, mobile FROM user_profiles WHERE username = $1`, username).
		Scan(&email, &lang, &wecom, &ding, &mobile)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	p.Email, p.Lang, p.WeComUserID, p.DingTalkUserID, p.Mobile = email.String, lang.String, wecom.String, ding.String, mobile.String
	return p, nil
}

// Profiles returns every profile that was set, by user name.
func (s *Store) Profiles(ctx context.Context) (map[string]Profile, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT username, coalesce(email, ''), coalesce(lang, ''), coalesce(wecom_userid, ''),
		coalesce(dingtalk_userid, ''), coalesce(mobile, '') FROM user_profiles`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Profile{}
	for rows.Next() {
		var p Profile
		if err := rows.Scan(&p.Username, &p.Email, &p.Lang, &p.WeComUserID, &p.DingTalkUserID, &p.Mobile); err != nil {
			return nil, err
		}
		out[p.Username] = p
	}
	return out, rows.Err()
}

// SetProfile stores a user's whole profile (an administrator's edit).
func (s *Store) SetProfile(ctx context.Context, p Profile) error {
	p.Email = strings.TrimSpace(p.Email)
	if err := p.Validate(); err != nil {
		return err
	}
	if _, err := s.User(ctx, p.Username); err != nil {
		return fmt.Errorf("%w: %s", err, p.Username)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.db.ExecContext(ctx, `INSERT INTO user_profiles VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (username) DO UPDATE SET email = excluded.email, lang = excluded.lang, wecom_userid = excluded.wecom_userid,
		dingtalk_userid = excluded.dingtalk_userid, mobile = excluded.mobile, updated_at = excluded.updated_at`,
		p.Username, nullStr(p.Email), nullStr(p.Lang), nullStr(p.WeComUserID), nullStr(p.DingTalkUserID), nullStr(p.Mobile), s.now())
	return err
}

// SetLang stores the language a user reads in (their own choice on the
// settings page), keeping the rest of the profile.
func (s *Store) SetLang(ctx context.Context, username, lang string) error {
	p, err := s.Profile(ctx, username)
	if err != nil {
		return err
	}
	p.Lang = lang
	return s.SetProfile(ctx, p)
}

// ChangePassword is a user changing their own password: the current one
// must be right. Their sessions end (the browser signs in again).
func (s *Store) ChangePassword(ctx context.Context, username, current, next string) error {
	if _, err := s.Authenticate(ctx, username, current); err != nil {
		return err
	}
	return s.SetPassword(ctx, username, next)
}
