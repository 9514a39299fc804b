package i18n

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

func TestCataloguesMatch(t *testing.T) {
	en, zh := Keys(EN), Keys(ZH)
	for _, k := range en {
		if !slices.Contains(zh, k) {
			t.Errorf("key %q is in en but not in zh-CN", k)
		}
	}
	for _, k := range zh {
		if !slices.Contains(en, k) {
			t.Errorf("key %q is in zh-CN but not in en", k)
		}
	}
	if len(en) < 50 {
		t.Errorf("only %d keys", len(en))
	}
}

func TestFromRequest(t *testing.T) {
	cases := []struct{ url, cookie, accept, want string }{
		{"/", "", "", EN},
		{"/", "", "zh-CN,zh;q=0.9,en;q=0.8", ZH},
		{"/", "", "en-US,en;q=0.9", EN},
		{"/", "", "zh-TW", ZH},
		{"/", "zh-CN", "en", ZH},
		{"/?lang=en", "zh-CN", "zh-CN", EN},
		{"/?lang=zh-CN", "", "en", ZH},
		{"/?lang=fr", "", "zh", ZH},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", c.url, nil)
		if c.cookie != "" {
			r.Header.Set("Cookie", "lang="+c.cookie)
		}
		if c.accept != "" {
			r.Header.Set("Accept-Language", c.accept)
		}
		if got := FromRequest(r); got != c.want {
			t.Errorf("%s cookie=%q accept=%q: got %s, want %s", c.url, c.cookie, c.accept, got, c.want)
		}
	}
}

func TestFormats(t *testing.T) {
	cases := []struct{ got, want string }{
		{Money(ZH, 123456789, "CNY"), "¥1.23亿"},
		{Money(ZH, 4567800, "CNY"), "¥456.8万"},
		{Money(ZH, 9999, "CNY"), "¥9,999"},
		{Money(EN, 123456789, "CNY"), "¥123.46M"},
		{Money(EN, 2_500_000_000, "USD"), "$2.5B"},
		{Money(EN, -45600, "CNY"), "-¥45.6K"},
		{Percent(EN, 0.2891), "28.9%"},
		{Int(EN, 1234567), "1,234,567"},
		{Date(ZH, time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)), "2026年10月31日"},
		{Date(EN, time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)), "31 Oct 2026"},
		{Month(ZH, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), "2026年3月"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
}
