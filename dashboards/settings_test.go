package dashboards_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/triscope/triscope/access"
)

// The settings page: a user changes their language and their password (the
// current one must be right; every session ends); only an administrator
// sets where a user's reports go.
func TestSettings(t *testing.T) {
	ctx := context.Background()
	if err := env.auth.PutUser(ctx, access.User{Username: "settings-user", Role: access.RoleRep, RepID: env.rep}, env.password); err != nil {
		t.Fatal(err)
	}
	c := login(t, "settings-user")
	resp, body := c.get("/settings")
	if resp.StatusCode != 200 || !strings.Contains(body, `action="/settings/password"`) || strings.Contains(body, `action="/settings/profile"`) {
		t.Fatalf("settings page of a rep: %d", resp.StatusCode)
	}
	if resp, _ := c.postForm("/settings/lang", url.Values{"csrf": {c.csrf}, "lang": {"zh-CN"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("language: %d", resp.StatusCode)
	}
	if p, _ := env.auth.Profile(ctx, "settings-user"); p.Lang != "zh-CN" {
		t.Errorf("language not kept: %+v", p)
	}
	// Without the CSRF token nothing changes.
	if resp, _ := c.postForm("/settings/lang", url.Values{"lang": {"en"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("language without CSRF token: %d", resp.StatusCode)
	}
	// A rep cannot set profiles.
	if resp, _ := c.postForm("/settings/profile", url.Values{"csrf": {c.csrf}, "username": {"settings-user"}, "email": {"x@example.com"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a rep sets a profile: %d", resp.StatusCode)
	}
	if resp, body := c.postForm("/settings/password", url.Values{"csrf": {c.csrf}, "current": {"wrong-password"}, "new": {"new-password-1"}, "again": {"new-password-1"}}); resp.StatusCode != 422 || !strings.Contains(body, "当前密码不正确") {
		t.Errorf("a wrong current password: %d", resp.StatusCode)
	}
	if resp, _ := c.postForm("/settings/password", url.Values{"csrf": {c.csrf}, "current": {env.password}, "new": {"new-password-1"}, "again": {"new-password-2"}}); resp.StatusCode != 422 {
		t.Errorf("two different new passwords: %d", resp.StatusCode)
	}
	resp, _ = c.postForm("/settings/password", url.Values{"csrf": {c.csrf}, "current": {env.password}, "new": {"new-password-1"}, "again": {"new-password-1"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("password change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := c.get("/settings"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session survived the password change: %d", resp.StatusCode)
	}
	if _, err := env.auth.Authenticate(ctx, "settings-user", "new-password-1"); err != nil {
		t.Errorf("new password: %v", err)
	}
	// The administrator sets where the user's reports go.
	admin := login(t, "admin")
	if resp, body := admin.get("/settings?user=settings-user"); resp.StatusCode != 200 || !strings.Contains(body, `id="profile-form"`) {
		t.Fatalf("admin's profile form: %d", resp.StatusCode)
	}
	resp, _ = admin.postForm("/settings/profile", url.Values{"csrf": {admin.csrf}, "username": {"settings-user"}, "email": {"rep7@example.com"},
		"lang": {"en"}, "wecom_userid": {"ZhangWei"}, "dingtalk_userid": {"zw01"}, "mobile": {"+8613800000000"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin sets a profile: %d", resp.StatusCode)
	}
	p, _ := env.auth.Profile(ctx, "settings-user")
	if p.Email != "rep7@example.com" || p.WeComUserID != "ZhangWei" || p.DingTalkUserID != "zw01" || p.Lang != "en" {
		t.Errorf("profile %+v", p)
	}
	if resp, _ := admin.postForm("/settings/profile", url.Values{"csrf": {admin.csrf}, "username": {"settings-user"}, "email": {"Bad <x@y>"}}); resp.StatusCode != 422 {
		t.Errorf("a bad address: %d", resp.StatusCode)
	}
}
