package dashboards_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/query"
)

// After the data changes, the server computes each account's home page and
// every page's default view in the background, for every scope that has an
// account and both languages: the first person to open a page gets it from
// the cache.
func TestWarmUpFillsTheCacheAfterADataChange(t *testing.T) {
	eng := env.srv.Engine()
	eng.Invalidate() // a new data version: nothing cached
	st, err := eng.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for env.srv.Warmed() != st.Version {
		if time.Now().After(deadline) {
			t.Fatalf("warm-up of version %s not done after 5 minutes (warmed: %q)", st.Version, env.srv.Warmed())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var urls []string
	for _, p := range query.Pages() {
		if p.Placeholder || strings.Contains(p.Path, "/:") {
			continue
		}
		for _, s := range p.Sections {
			for _, id := range s.Charts {
				urls = append(urls, "/api/charts/"+url.PathEscape(id))
			}
		}
	}
	if len(urls) < 20 {
		t.Fatalf("only %d default chart views", len(urls))
	}
	// The first request of each view, by an executive, a manager and a rep,
	// in each language, is answered from the cache.
	for _, user := range []string{"ceo", "east", "rep"} {
		c := login(t, user)
		for _, lang := range []string{"zh-CN", "en"} {
			for _, u := range urls {
				resp, _ := c.get(u + "?lang=" + lang)
				if resp.StatusCode != 200 {
					t.Fatalf("%s %s: HTTP %d", user, u, resp.StatusCode)
				}
				if got := resp.Header.Get("X-Cache"); got != "hit" {
					t.Errorf("%s (%s): %s computed on request (X-Cache %q), not warmed", user, lang, u, got)
				}
			}
		}
	}
	// A rep's home is their own page (/reps/{id}): its charts as the page asks for them.
	home, ok := query.PageByPath("/reps/:id")
	if !ok {
		t.Fatal("no rep page")
	}
	c := login(t, "rep")
	for _, s := range home.Sections {
		for _, id := range s.Charts {
			resp, _ := c.get("/api/charts/" + url.PathEscape(id) + "?lang=zh-CN&id=" + url.QueryEscape(env.rep))
			if got := resp.Header.Get("X-Cache"); resp.StatusCode != 200 || got != "hit" {
				t.Errorf("the rep's home: %s computed on request (HTTP %d, X-Cache %q), not warmed", id, resp.StatusCode, got)
			}
		}
	}
}
