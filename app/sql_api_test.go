package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSQLAPI: the HTTP API's rules — CSRF for a session, none for an API
// token, a token cannot manage tokens, a revoked token stops at once, busy
// answers 429 with Retry-After, errors are classified (DuckDB's raw text
// for admins only), exports, saved queries with parameters run by ID or
// name with the caller's scope, the history, the audit trail.
func TestSQLAPI(t *testing.T) {
	setupSQL(t)
	br := signIn(t, "manager")

	// A session without its CSRF token is refused; with it, it runs.
	req, _ := http.NewRequest(http.MethodPost, sqlEnv.base+"/api/sql", strings.NewReader(`{"sql":"SELECT 1"}`))
	resp, err := br.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %s", resp.Status)
	}
	if o := viaConsole(t, br, "SELECT 1 AS one", time.Second); o.class != "" || o.rows[0] != "1" {
		t.Errorf("with CSRF: %v", o)
	}
	// Without a session or token: 401.
	resp, _ = http.Post(sqlEnv.base+"/api/sql", "application/json", strings.NewReader(`{"sql":"SELECT 1"}`))
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %s", resp.Status)
	}

	// Tokens: made on the console, shown once; a token cannot make tokens.
	resp = br.do(t, http.MethodPost, "/api/sql/tokens", `{"name":"nightly script"}`)
	var made struct {
		Secret string `json:"secret"`
		Token  struct {
			ID string `json:"id"`
		} `json:"token"`
	}
	json.NewDecoder(resp.Body).Decode(&made)
	resp.Body.Close()
	if !strings.HasPrefix(made.Secret, "tsk_") {
		t.Fatalf("token: %+v", made)
	}
	call := func(secret, method, path, body string) *http.Response {
		req, _ := http.NewRequest(method, sqlEnv.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp = call(made.Secret, http.MethodPost, "/api/sql", `{"sql":"SELECT count(*) FROM customers"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with the new token: %s", resp.Status)
	}
	resp = call(made.Secret, http.MethodPost, "/api/sql/tokens", `{"name":"x"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a token making a token: %s", resp.Status)
	}
	resp = br.do(t, http.MethodDelete, "/api/sql/tokens/"+made.Token.ID, "")
	resp.Body.Close()
	resp = call(made.Secret, http.MethodPost, "/api/sql", `{"sql":"SELECT 1"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a revoked token: %s", resp.Status)
	}

	// Errors: classified; the raw DuckDB text only for an admin.
	bad := `{"sql":"SELECT CAST(name AS INTEGER) FROM customers"}`
	resp = call(sqlEnv.tokens["manager"], http.MethodPost, "/api/sql", bad)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || strings.Contains(string(body), "Conversion Error") {
		t.Errorf("a manager's data error: %s %s", resp.Status, body)
	}
	resp = call(sqlEnv.tokens["admin"], http.MethodPost, "/api/sql", bad)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "Conversion Error") {
		t.Errorf("an admin's data error: %s %s", resp.Status, body)
	}

	// Busy: past the per-user cap (2 here) the API answers 429 at once.
	var wg sync.WaitGroup
	codes := make(chan int, 3)
	slow := `{"sql":"SELECT count(*) FROM range(100000) a, range(100000) b, range(1000) c","timeout_ms":3000}`
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 300 * time.Millisecond)
			resp := call(sqlEnv.tokens["rep"], http.MethodPost, "/api/sql", slow)
			if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}(i)
	}
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for c := range codes {
		got[c]++
	}
	if got[http.StatusTooManyRequests] != 1 || got[http.StatusGatewayTimeout] != 2 {
		t.Errorf("three slow queries of one user: %v, want two timeouts (504) and one busy (429)", got)
	}

	// Exports.
	for format, ctype := range map[string]string{"csv": "text/csv", "xlsx": "spreadsheetml", "parquet": "parquet"} {
		resp = br.do(t, http.MethodPost, "/api/sql/export", `{"sql":"SELECT customer_id, name FROM customers","format":"`+format+`"}`)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), ctype) || len(b) < 50 {
			t.Errorf("export %s: %s %s %d bytes", format, resp.Status, resp.Header.Get("Content-Type"), len(b))
		}
	}

	// A saved query with a parameter, shared with reps: the rep runs it by
	// name with its own scope and a value of its own.
	resp = br.do(t, http.MethodPost, "/api/sql/saved", `{"name":"Contracts since","description":"signed since a date",
		"sql":"SELECT contract_id FROM contracts WHERE signed_on >= $from","params":[{"name":"from","type":"date","default":"2020-01-01"}],
		"shared_role":"rep"}`)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("save: %s %s", resp.Status, b)
	}
	resp = br.do(t, http.MethodPost, "/api/sql/saved", `{"name":"Bad","sql":"SELECT * FROM read_csv('x')"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("saving a refused query: %s", resp.Status)
	}
	all := viaAPI(t, "rep", "SELECT contract_id FROM contracts WHERE signed_on >= DATE '2026-01-01'", 10*time.Second)
	resp = call(sqlEnv.tokens["rep"], http.MethodPost, "/api/sql", `{"saved":"Contracts since","params":{"from":"2026-01-01"}}`)
	o := httpResult(t, resp)
	if o.class != "" || strings.Join(o.rows, ",") != strings.Join(all.rows, ",") {
		t.Errorf("the rep's run of the saved query: %v, want %v", o, all)
	}
	resp = call(sqlEnv.tokens["analyst"], http.MethodPost, "/api/sql", `{"saved":"Contracts since"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an analyst runs a query not shared with them: %s", resp.Status)
	}

	// The history and the audit trail.
	resp = br.do(t, http.MethodGet, "/api/sql/history", "")
	var hist struct {
		History []struct{ SQL, Entry, Outcome string } `json:"history"`
	}
	json.NewDecoder(resp.Body).Decode(&hist)
	resp.Body.Close()
	if len(hist.History) == 0 {
		t.Error("no history")
	}
	events, err := sqlEnv.rt.AuditLog(t.Context(), 500)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range events {
		if e.Action == "sql" {
			seen[e.Username+"/"+e.Detail["entry"].(string)+"/"+e.Detail["outcome"].(string)] = true
		}
	}
	for _, want := range []string{"manager/console/ok", "rep/http/ok", "rep/http/busy", "rep/http/timeout", "admin/http/data"} {
		if !seen[want] {
			t.Errorf("the audit trail lacks %s", want)
		}
	}
}
