package deliver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// wecomPeer plays WeCom's group robot API as documented: send takes JSON
// by msgtype, upload_media takes multipart field "media" and returns a
// media_id.
type wecomPeer struct {
	t     *testing.T
	key   string
	clock *fakeClock

	mu      sync.Mutex
	msgs    []map[string]any
	at      []time.Time
	media   map[string][]byte // media_id → content
	names   map[string]string // media_id → file name
	reply   []int             // errcodes to answer before succeeding
	uploads int
}

func newWeComPeer(t *testing.T, clock *fakeClock) (*wecomPeer, *httptest.Server) {
	p := &wecomPeer{t: t, key: "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", clock: clock, media: map[string][]byte{}, names: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	return p, srv
}

func (p *wecomPeer) fail(w http.ResponseWriter, format string, a ...any) {
	p.t.Errorf("wecom peer: "+format, a...)
	json.NewEncoder(w).Encode(map[string]any{"errcode": 40058, "errmsg": fmt.Sprintf(format, a...)})
}

func (p *wecomPeer) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Query().Get("key") != p.key {
		p.fail(w, "%s %s", r.Method, r.URL)
		return
	}
	switch r.URL.Path {
	case "/cgi-bin/webhook/upload_media":
		p.uploads++
		if r.URL.Query().Get("type") != "file" {
			p.fail(w, "upload type %q", r.URL.Query().Get("type"))
			return
		}
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			p.fail(w, "upload content type %q", r.Header.Get("Content-Type"))
			return
		}
		_ = params
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			p.fail(w, "multipart: %v", err)
			return
		}
		f, fh, err := r.FormFile("media")
		if err != nil {
			p.fail(w, "no media field: %v", err)
			return
		}
		b, _ := io.ReadAll(f)
		if n, _ := strconv.Atoi(fileLength(fh.Header.Get("Content-Disposition"))); n != len(b) {
			p.fail(w, "filelength %d, content %d bytes", n, len(b))
			return
		}
		id := fmt.Sprintf("3a8asd892asd8asd%d", len(p.media))
		p.media[id] = b
		p.names[id] = fh.Filename
		json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok", "type": "file", "media_id": id, "created_at": "1380000000"})
	case "/cgi-bin/webhook/send":
		if len(p.reply) > 0 {
			code := p.reply[0]
			p.reply = p.reply[1:]
			json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": "api freq out of limit"})
			return
		}
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			p.fail(w, "json: %v", err)
			return
		}
		switch m["msgtype"] {
		case "markdown":
			md, _ := m["markdown"].(map[string]any)
			c, ok := md["content"].(string)
			if !ok || c == "" || len(c) > 4096 {
				p.fail(w, "markdown.content missing or over 4096 bytes (%d)", len(c))
				return
			}
		case "image":
			img, _ := m["image"].(map[string]any)
			raw, err := base64.StdEncoding.DecodeString(fmt.Sprint(img["base64"]))
			sum := md5.Sum(raw)
			if err != nil || len(raw) > 2<<20 || hex.EncodeToString(sum[:]) != img["md5"] {
				p.fail(w, "image: base64 %v, md5 %v", err, img["md5"])
				return
			}
		case "file":
			f, _ := m["file"].(map[string]any)
			if _, ok := p.media[fmt.Sprint(f["media_id"])]; !ok {
				p.fail(w, "file.media_id %v unknown", f["media_id"])
				return
			}
		default:
			p.fail(w, "msgtype %v", m["msgtype"])
			return
		}
		p.msgs = append(p.msgs, m)
		p.at = append(p.at, p.clock.Now())
		json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok"})
	default:
		http.NotFound(w, r)
	}
}

func fileLength(cd string) string {
	for _, f := range strings.Split(cd, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(f), "="); ok && k == "filelength" {
			return v
		}
	}
	return ""
}

func TestWeComRobot(t *testing.T) {
	clock := newFakeClock()
	peer, srv := newWeComPeer(t, clock)
	ch, err := NewWeCom("east-wecom", WeComConfig{Webhook: Secret(srv.URL + "/cgi-bin/webhook/send?key=" + peer.key)}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	chart := testPNG(t)
	csv := []byte("\ufeff客户,金额\n华东一号,100\n")
	const fileName = "逾期回款清单.csv"
	rc, err := ch.Send(context.Background(), Message{
		Key: "k1", Subject: "每日预警", Markdown: "**3** 笔回款逾期", Link: "https://triscope.example.com/alerts", LinkLabel: "打开报表",
		Recipient:   Recipient{ID: "east", WeComUserID: "wangjl"},
		Images:      []Image{{CID: "c1", Name: "alerts.png", Data: chart}},
		Attachments: []Attachment{BytesAttachment(fileName, "text/csv", csv)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Attempts != 1 || len(rc.Notes) != 0 {
		t.Errorf("receipt %+v", rc)
	}
	if len(peer.msgs) != 3 {
		t.Fatalf("robot got %d messages, want markdown, image, file", len(peer.msgs))
	}
	md := peer.msgs[0]["markdown"].(map[string]any)["content"].(string)
	for _, want := range []string{"### 每日预警", "**3** 笔回款逾期", "[打开报表](https://triscope.example.com/alerts)", "<@wangjl>"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown %q lacks %q", md, want)
		}
	}
	if peer.msgs[1]["msgtype"] != "image" || peer.msgs[2]["msgtype"] != "file" {
		t.Errorf("order %v %v", peer.msgs[1]["msgtype"], peer.msgs[2]["msgtype"])
	}
	id := peer.msgs[2]["file"].(map[string]any)["media_id"].(string)
	if !bytes.Equal(peer.media[id], csv) || peer.names[id] != fileName {
		t.Errorf("uploaded %q as %q", peer.media[id], peer.names[id])
	}
}

// TestWeComRetryResumesParts: a rate-limit answer on the image does not
// post the markdown again; the retry waits a whole window.
func TestWeComRetryResumesParts(t *testing.T) {
	clock := newFakeClock()
	peer, srv := newWeComPeer(t, clock)
	ch, _ := NewWeCom("w", WeComConfig{Webhook: Secret(srv.URL + "/cgi-bin/webhook/send?key=" + peer.key)}, WithClock(clock), WithJitter(noJitter))
	// The first post (markdown) works; the second (image) is refused once.
	var calls int
	msg := Message{Key: "k", Subject: "s", Text: "t", Images: []Image{{CID: "c", Data: testPNG(t)}}}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 2 {
			json.NewEncoder(w).Encode(map[string]any{"errcode": 45009, "errmsg": "api freq out of limit"})
			return
		}
		peer.serve(w, r)
	})
	rc, err := ch.Send(context.Background(), msg)
	if err != nil || rc.Attempts != 2 {
		t.Fatalf("%v attempts %d", err, rc.Attempts)
	}
	if len(peer.msgs) != 2 || peer.msgs[0]["msgtype"] != "markdown" || peer.msgs[1]["msgtype"] != "image" {
		t.Errorf("robot got %v", peer.msgs)
	}
	if s := clock.Sleeps(); len(s) == 0 || s[0] < time.Minute {
		t.Errorf("waits %v: want a whole window after a rate-limit answer", s)
	}
}

// TestRobotPacing: 21 messages to one robot, sent one after another and
// from 21 goroutines at once: no 61-second window (the robot's minute
// plus the pacer's margin) holds more than 20, by the fake clock.
func TestRobotPacing(t *testing.T) {
	for _, concurrent := range []bool{false, true} {
		t.Run(fmt.Sprintf("concurrent=%v", concurrent), func(t *testing.T) {
			clock := newFakeClock()
			start := clock.Now()
			peer, srv := newWeComPeer(t, clock)
			ch, _ := NewWeCom("w", WeComConfig{Webhook: Secret(srv.URL + "/cgi-bin/webhook/send?key=" + peer.key)}, WithClock(clock))
			send := func(i int) {
				if _, err := ch.Send(context.Background(), Message{Key: fmt.Sprint(i), Text: fmt.Sprint("message ", i)}); err != nil {
					t.Error(err)
				}
			}
			if concurrent {
				// Manual clock: 20 go through at once, the 21st sleeps
				// until the clock is moved past the window.
				clock.manual = true
				var wg sync.WaitGroup
				for i := range 21 {
					wg.Go(func() { send(i) })
				}
				eventually(t, "20 messages and one waiting sender", func() bool {
					peer.mu.Lock()
					n := len(peer.at)
					peer.mu.Unlock()
					return n == 20 && clock.Waiters() == 1
				})
				clock.Advance(60 * time.Second)
				time.Sleep(20 * time.Millisecond) // a wrongly woken sender would post now
				peer.mu.Lock()
				if n := len(peer.at); n != 20 {
					t.Errorf("%d messages within the first 60s", n)
				}
				peer.mu.Unlock()
				clock.Advance(time.Second)
				wg.Wait()
			} else {
				for i := range 21 {
					send(i)
				}
			}
			if len(peer.at) != 21 {
				t.Fatalf("robot got %d messages", len(peer.at))
			}
			for i := 20; i < len(peer.at); i++ {
				if gap := peer.at[i].Sub(peer.at[i-20]); gap < time.Minute {
					t.Errorf("messages %d and %d are %v apart: 21 in one minute", i-20, i, gap)
				}
			}
			for i := 0; i < 20; i++ {
				if !peer.at[i].Equal(start) {
					t.Errorf("message %d waited until %v: the first 20 need no wait", i, peer.at[i].Sub(start))
				}
			}
			if got := peer.at[20].Sub(start); got != 61*time.Second {
				t.Errorf("message 21 sent after %v, want 61s", got)
			}
			if !concurrent {
				for i, m := range peer.msgs {
					if c := m["markdown"].(map[string]any)["content"].(string); c != fmt.Sprint("message ", i) {
						t.Errorf("message %d is %q: out of order", i, c)
					}
				}
			}
		})
	}
}

// dingPeer verifies requests exactly as DingTalk documents: sign =
// urlEncode(base64(HmacSHA256(secret, timestamp + "\n" + secret))), with
// timestamp in milliseconds within an hour of its clock.
type dingPeer struct {
	t      *testing.T
	secret string
	token  string
	clock  *fakeClock
	mu     sync.Mutex
	msgs   []map[string]any
}

func (p *dingPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := r.URL.Query()
	reply := func(code int, msg string) {
		json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg})
	}
	if r.URL.Path != "/robot/send" || q.Get("access_token") != p.token {
		reply(300001, "token is not exist")
		return
	}
	ts := q.Get("timestamp")
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.UnixMilli(ms).Sub(p.clock.Now()).Abs() > time.Hour {
		reply(310000, "invalid timestamp")
		return
	}
	mac := hmac.New(sha256.New, []byte(p.secret))
	mac.Write([]byte(ts + "\n" + p.secret))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if q.Get("sign") != want {
		reply(310000, "sign not match")
		return
	}
	// The raw query carries the URL-encoded base64 ('+', '/', '=' escaped).
	if !strings.Contains(r.URL.RawQuery, "sign="+url.QueryEscape(want)) {
		p.t.Errorf("raw query %q does not carry the URL-encoded sign", r.URL.RawQuery)
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		reply(400, "bad json")
		return
	}
	switch m["msgtype"] {
	case "markdown":
		md, _ := m["markdown"].(map[string]any)
		if md["title"] == nil || md["text"] == nil {
			reply(40035, "markdown needs title and text")
			return
		}
	case "actionCard":
		ac, _ := m["actionCard"].(map[string]any)
		if ac["title"] == nil || ac["text"] == nil || ac["singleTitle"] == nil || ac["singleURL"] == nil {
			reply(40035, "actionCard needs title, text, singleTitle, singleURL")
			return
		}
	default:
		reply(40035, "msgtype")
		return
	}
	p.msgs = append(p.msgs, m)
	reply(0, "ok")
}

func TestDingTalkRobot(t *testing.T) {
	clock := newFakeClock()
	peer := &dingPeer{t: t, secret: "SEC1f0a+b/c=9", token: "abc123", clock: clock}
	srv := httptest.NewServer(peer)
	defer srv.Close()
	ch, err := NewDingTalk("hq-ding", DingTalkConfig{Webhook: Secret(srv.URL + "/robot/send?access_token=" + peer.token), Secret: Secret(peer.secret)}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	// With a link: an action card whose button opens it; files noted.
	rc, err := ch.Send(context.Background(), Message{Key: "k1", Subject: "周报", Markdown: "回款 **95%**", Link: "https://t.example.com/r/1", LinkLabel: "查看",
		Attachments: []Attachment{BytesAttachment("周报.pdf", "", []byte("%PDF"))}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.Notes) != 1 || !strings.Contains(rc.Notes[0], "cannot send files") {
		t.Errorf("notes %v", rc.Notes)
	}
	ac := peer.msgs[0]["actionCard"].(map[string]any)
	if ac["title"] != "周报" || ac["singleURL"] != "https://t.example.com/r/1" || ac["singleTitle"] != "查看" || !strings.Contains(ac["text"].(string), "回款 **95%**") {
		t.Errorf("actionCard %v", ac)
	}
	// Without a link: markdown mentioning the recipient.
	if _, err := ch.Send(context.Background(), Message{Key: "k2", Subject: "预警", Text: "撞单 2 起", Recipient: Recipient{DingTalkUserID: "user123"}}); err != nil {
		t.Fatal(err)
	}
	m := peer.msgs[1]
	if m["msgtype"] != "markdown" || !strings.Contains(m["markdown"].(map[string]any)["text"].(string), "@user123") ||
		fmt.Sprint(m["at"].(map[string]any)["atUserIds"]) != "[user123]" {
		t.Errorf("markdown %v", m)
	}
	// A wrong secret is permanent and says where to look; the secret is not in the error.
	bad, _ := NewDingTalk("hq-ding", DingTalkConfig{Webhook: Secret(srv.URL + "/robot/send?access_token=" + peer.token), Secret: "SECwrong-secret"}, WithClock(clock))
	_, err = bad.Send(context.Background(), Message{Key: "k3", Text: "x"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "加签") || strings.Contains(err.Error(), "SECwrong") || strings.Contains(err.Error(), peer.token) {
		t.Errorf("wrong secret: %v", err)
	}
	if got := DingTalkSign(1700000000000, "this is secret"); got != referenceSign(1700000000000, "this is secret") {
		t.Errorf("DingTalkSign %q", got)
	}
}

func referenceSign(ms int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d\n%s", ms, secret)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// webhookPeer checks the signature the way a receiver would and
// deduplicates by Idempotency-Key.
type webhookPeer struct {
	t        *testing.T
	secret   string
	clock    *fakeClock
	mu       sync.Mutex
	failures int // answer 503 this many times first
	requests int
	accepted map[string]WebhookPayload
}

func (p *webhookPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get("X-Triscope-Timestamp")
	mac := hmac.New(sha256.New, []byte(p.secret))
	mac.Write([]byte(ts + "." + string(body)))
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(r.Header.Get("X-Triscope-Signature")), []byte(want)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	sec, _ := strconv.ParseInt(ts, 10, 64)
	if time.Unix(sec, 0).Sub(p.clock.Now()).Abs() > 5*time.Minute {
		http.Error(w, "stale", http.StatusUnauthorized)
		return
	}
	if p.failures > 0 {
		p.failures--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	var pl WebhookPayload
	if err := json.Unmarshal(body, &pl); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || key != pl.Key {
		http.Error(w, "idempotency key", http.StatusBadRequest)
		return
	}
	if _, dup := p.accepted[key]; !dup {
		p.accepted[key] = pl
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestWebhook(t *testing.T) {
	clock := newFakeClock()
	peer := &webhookPeer{t: t, secret: "whsec-1", clock: clock, accepted: map[string]WebhookPayload{}}
	srv := httptest.NewServer(peer)
	defer srv.Close()
	ch, err := NewWebhook("feed", WebhookConfig{URL: srv.URL + "/hooks/triscope", Secret: Secret(peer.secret)}, WithClock(clock), WithJitter(noJitter), WithRetry(RetryConfig{Initial: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("a,b\n1,2\n")
	msg := Message{Report: "settlements", RunID: "r1", Key: "key-1", Subject: "月末回款", Recipient: Recipient{ID: "finance"},
		Attachments: []Attachment{BytesAttachment("回款.csv", "text/csv", data)}}

	// Fails twice with 503, then succeeds: three attempts, backoff 1s, 2s.
	peer.failures = 2
	rc, err := ch.Send(context.Background(), msg)
	if err != nil || rc.Attempts != 3 || rc.ID != "key-1" {
		t.Fatalf("%v %+v", err, rc)
	}
	if s := clock.Sleeps(); fmt.Sprint(s) != "[1s 2s]" {
		t.Errorf("waits %v", s)
	}
	pl := peer.accepted["key-1"]
	if pl.Report != "settlements" || len(pl.Attachments) != 1 || pl.Attachments[0].Name != "回款.csv" {
		t.Fatalf("payload %+v", pl)
	}
	raw, _ := base64.StdEncoding.DecodeString(pl.Attachments[0].Data)
	sum := sha256.Sum256(data)
	if !bytes.Equal(raw, data) || pl.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Error("attachment content or checksum differs")
	}
	// A resend carries the same key: the receiver keeps one delivery.
	if _, err := ch.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if len(peer.accepted) != 1 || peer.requests != 4 {
		t.Errorf("accepted %d, requests %d", len(peer.accepted), peer.requests)
	}
	// A wrong secret gets 401: permanent, one attempt.
	bad, _ := NewWebhook("feed", WebhookConfig{URL: srv.URL, Secret: "other"}, WithClock(clock))
	rc, err = bad.Send(context.Background(), msg)
	var de *Error
	if !errors.As(err, &de) || !de.Permanent || de.Status != 401 || rc.Attempts != 1 || !strings.Contains(err.Error(), `channel "feed"`) {
		t.Errorf("wrong secret: %v attempts %d", err, rc.Attempts)
	}
	// Files over max_body_bytes: permanent, before sending.
	small, _ := NewWebhook("feed", WebhookConfig{URL: srv.URL, Secret: Secret(peer.secret), MaxBodyBytes: 100}, WithClock(clock))
	before := peer.requests
	msg.Attachments = []Attachment{BytesAttachment("big.csv", "", bytes.Repeat([]byte("x"), 1000))}
	if _, err := small.Send(context.Background(), msg); !IsPermanent(err) || !strings.Contains(err.Error(), "max_body_bytes") || peer.requests != before {
		t.Errorf("oversized: %v", err)
	}
}

// TestHTTPRedirects: a redirect to another host is not followed; the
// transient and permanent statuses are told apart; retries are bounded.
func TestHTTPRedirects(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("followed a redirect to another host")
	}))
	defer other.Close()
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer redir.Close()
	clock := newFakeClock()
	ch, _ := NewWebhook("feed", WebhookConfig{URL: redir.URL, Secret: "s"}, WithClock(clock))
	rc, err := ch.Send(context.Background(), Message{Key: "k"})
	if !IsPermanent(err) || rc.Attempts != 1 || !strings.Contains(err.Error(), "another host") {
		t.Errorf("redirect: %v, attempts %d", err, rc.Attempts)
	}

	var n int
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer busy.Close()
	ch, _ = NewWebhook("feed", WebhookConfig{URL: busy.URL, Secret: "s"}, WithClock(clock), WithRetry(RetryConfig{Attempts: 3}))
	rc, err = ch.Send(context.Background(), Message{Key: "k"})
	if err == nil || IsPermanent(err) || rc.Attempts != 3 || n != 3 || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("429 forever: %v, attempts %d, requests %d", err, rc.Attempts, n)
	}

	// A refused connection is transient.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	ch, _ = NewWebhook("feed", WebhookConfig{URL: url, Secret: "s"}, WithClock(clock), WithRetry(RetryConfig{Attempts: 2}))
	rc, err = ch.Send(context.Background(), Message{Key: "k"})
	if err == nil || IsPermanent(err) || rc.Attempts != 2 {
		t.Errorf("refused: %v, attempts %d", err, rc.Attempts)
	}
}
