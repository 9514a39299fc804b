package dashboards_test

import (
	"html"
	"net/url"
	"strings"
	"testing"
)

// A request the page cannot follow as asked is said on the page, not
// silently replaced (issue 17: an unknown period showed this year to date
// with nothing to say so).
func TestRequestsThatCannotBeFollowedAreSaid(t *testing.T) {
	east := login(t, "east")
	cases := []struct {
		name, query string
		want        []string // notice texts (HTML-escaped on the page)
		selected    string   // the period the selector shows
	}{
		{"unknown period", "period=" + url.QueryEscape(`<b>soon`), []string{`The period "<b>soon" is not one Triscope knows`}, "ytd"},
		{"unit outside the scope", "org=ORG-NOT-MINE", []string{`The unit "ORG-NOT-MINE" is not one you may see`}, "ytd"},
		{"unknown product line", "pl=teapots", []string{`There is no product line "teapots"`}, "ytd"},
		{"currency without a rate", "cur=XYZ", []string{`There is no rate for XYZ`}, "ytd"},
		{"a known preset", "period=fytd", nil, "fytd"},
		{"last quarter", "period=lq", nil, "lq"},
		{"the future", "period=custom&from=2026-01-01&to=2030-12-31", []string{"The period ends after the data"}, "custom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := east.get("/telescope?lang=en&" + tc.query)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			hasNotices := strings.Contains(body, `class="notices"`)
			if hasNotices != (len(tc.want) > 0) {
				t.Errorf("notices shown: %v, want %v", hasNotices, len(tc.want) > 0)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, html.EscapeString(w)) {
					t.Errorf("the page does not say %q", w)
				}
			}
			if strings.Contains(body, "<b>soon") {
				t.Error("the request's text reached the page unescaped")
			}
			if !strings.Contains(body, `<option value="`+tc.selected+`" selected>`) {
				t.Errorf("the period selector does not show %s", tc.selected)
			}
		})
	}
}
