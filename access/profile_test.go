package access

import (
	"context"
	"errors"
	"testing"
)

func TestProfiles(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.AddUser(ctx, User{Username: "east", Role: RoleManager, OrgUnit: "R1"}, "password-1"); err != nil {
		t.Fatal(err)
	}
	p, err := s.Profile(ctx, "east")
	if err != nil || p != (Profile{Username: "east"}) {
		t.Fatalf("empty profile = %+v, %v", p, err)
	}
	if _, err := s.Profile(ctx, "nobody"); !errors.Is(err, ErrNoUser) {
		t.Fatalf("profile of an unknown user: %v", err)
	}
	want := Profile{Username: "east", Email: "east@example.com", Lang: "zh-CN", WeComUserID: "ZhangSan", DingTalkUserID: "manager7", Mobile: "+8613800000000"}
	if err := s.SetProfile(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Profile(ctx, "east"); got != want {
		t.Fatalf("profile = %+v, want %+v", got, want)
	}
	if err := s.SetLang(ctx, "east", "en"); err != nil {
		t.Fatal(err)
	}
	all, err := s.Profiles(ctx)
	if err != nil || all["east"].Lang != "en" || all["east"].Email != want.Email {
		t.Fatalf("profiles = %+v, %v", all, err)
	}
	for _, bad := range []Profile{
		{Username: "east", Email: "East <east@example.com>"},
		{Username: "east", Email: "not an address"},
		{Username: "east", Lang: "fr"},
		{Username: "east", WeComUserID: "a b"},
		{Username: "east", Mobile: "call me"},
		{Username: "nobody"},
	} {
		if err := s.SetProfile(ctx, bad); err == nil {
			t.Errorf("SetProfile(%+v) accepted", bad)
		}
	}
	if err := s.ChangePassword(ctx, "east", "wrong-password", "password-2"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("change with a wrong current password: %v", err)
	}
	if err := s.ChangePassword(ctx, "east", "password-1", "password-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "east", "password-2"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}
