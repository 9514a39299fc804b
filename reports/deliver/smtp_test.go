package deliver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpPeer is an in-process SMTP server (emersion/go-smtp) on loopback.
type smtpPeer struct {
	addr string
	port int

	mu       sync.Mutex
	got      []smtpReceived
	user     string
	pass     string
	rejectTo map[string]bool // RCPT answered 550
	failData int             // DATA answered 451 this many times
	datas    int             // DATA commands seen
}

type smtpReceived struct {
	From   string
	To     []string
	Data   []byte
	TLS    bool
	Authed bool
}

type smtpSession struct {
	peer   *smtpPeer
	conn   *smtp.Conn
	from   string
	to     []string
	authed bool
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.peer.user || password != s.peer.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.peer.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.peer.mu.Lock()
	defer s.peer.mu.Unlock()
	if s.peer.rejectTo[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.peer.mu.Lock()
	defer s.peer.mu.Unlock()
	s.peer.datas++
	if s.peer.failData > 0 {
		s.peer.failData--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.peer.got = append(s.peer.got, smtpReceived{From: s.from, To: s.to, Data: b, TLS: isTLS, Authed: s.authed})
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// startSMTP starts a server. mode "starttls" offers STARTTLS and AUTH only
// after it; "tls" is implicit TLS; "plain" offers AUTH in clear (loopback).
func startSMTP(t *testing.T, mode string, cert tls.Certificate) *smtpPeer {
	t.Helper()
	p := &smtpPeer{user: "reports", pass: "s3cret-密码", rejectTo: map[string]bool{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{peer: p, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.MaxMessageBytes = 30 << 20
	var l net.Listener
	var err error
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	switch mode {
	case "starttls":
		srv.TLSConfig = tc
	case "tls":
		l = tls.NewListener(l, tc)
	case "plain":
		srv.AllowInsecureAuth = true
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	p.addr = l.Addr().String()
	p.port = l.Addr().(*net.TCPAddr).Port
	return p
}

func (p *smtpPeer) received() []smtpReceived {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]smtpReceived(nil), p.got...)
}

// mimePart is a leaf of a parsed MIME tree.
type mimePart struct {
	Header      map[string][]string
	ContentType string
	Params      map[string]string
	Body        []byte
}

// walk parses a MIME entity into its leaves, decoding transfer encodings.
func walk(t *testing.T, header map[string][]string, body io.Reader) []mimePart {
	t.Helper()
	get := func(k string) string {
		if v := header[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	ct, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", get("Content-Type"), err)
	}
	if strings.HasPrefix(ct, "multipart/") {
		var leaves []mimePart
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			leaves = append(leaves, walk(t, p.Header, p)...)
		}
		return leaves
	}
	var r io.Reader = body
	switch strings.ToLower(get("Content-Transfer-Encoding")) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return []mimePart{{Header: header, ContentType: ct, Params: params, Body: b}}
}

func TestSMTPStartTLSMessage(t *testing.T) {
	cert, caFile := testCert(t)
	peer := startSMTP(t, "starttls", cert)
	clock := newFakeClock()
	ch, err := NewSMTP("mail", SMTPConfig{
		Host: "localhost", Port: peer.port, Security: "starttls", CAFile: caFile,
		Username: peer.user, Password: Secret(peer.pass),
		From: "Triscope 报表 <reports@example.com>", ReplyTo: "Sales Ops <salesops@example.com>",
	}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	chart := testPNG(t)
	xlsx := bytes.Repeat([]byte("PK\x03\x04 not really a workbook "), 200)
	const attName = "华东区销售周报（2026年第10周）回款与预测明细.xlsx"
	msg := Message{
		Report: "weekly-pack", RunID: "weekly-pack@20260302T000000Z", Key: "k7q2m4x9-east",
		Recipient: Recipient{ID: "east", Name: "王经理", Email: "east@example.com"},
		Subject:   "周报：华东区 2026 年第 10 周",
		Text:      "本周回款 1,234,567 元。",
		HTML:      `<p>本周回款 <b>1,234,567</b> 元</p><img src="cid:chart1" alt="bookings">`,
		Images:    []Image{{CID: "chart1", Name: "bookings.png", Data: chart}},
		Attachments: []Attachment{
			BytesAttachment(attName, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx),
		},
		UnsubscribeURL: "https://triscope.example.com/reports/unsubscribe?t=abc",
	}
	rc, err := ch.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Attempts != 1 || rc.ID != "<k7q2m4x9-east@example.com>" {
		t.Errorf("receipt %+v", rc)
	}
	got := peer.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	r := got[0]
	if !r.TLS || !r.Authed {
		t.Errorf("TLS %v, authenticated %v: want both (AUTH is offered only after STARTTLS)", r.TLS, r.Authed)
	}
	if r.From != "reports@example.com" || len(r.To) != 1 || r.To[0] != "east@example.com" {
		t.Errorf("envelope from %q to %v", r.From, r.To)
	}
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatal(err)
	}
	if id := m.Header.Get("Message-ID"); id != "<k7q2m4x9-east@example.com>" {
		t.Errorf("Message-ID %q", id)
	}
	if u := m.Header.Get("List-Unsubscribe"); u != "<https://triscope.example.com/reports/unsubscribe?t=abc>" {
		t.Errorf("List-Unsubscribe %q", u)
	}
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(m.Header.Get("Subject")); err != nil || s != msg.Subject {
		t.Errorf("Subject %q (%v), want %q", s, err, msg.Subject)
	}
	if from, err := m.Header.AddressList("From"); err != nil || from[0].Name != "Triscope 报表" {
		t.Errorf("From %v %v", from, err)
	}
	if rt := m.Header.Get("Reply-To"); !strings.Contains(rt, "salesops@example.com") {
		t.Errorf("Reply-To %q", rt)
	}
	leaves := walk(t, m.Header, m.Body)
	var text, html, img, att *mimePart
	for i := range leaves {
		p := &leaves[i]
		switch {
		case p.ContentType == "text/plain":
			text = p
		case p.ContentType == "text/html":
			html = p
		case p.ContentType == "image/png":
			img = p
		case strings.HasPrefix(p.ContentType, "application/vnd.openxmlformats"):
			att = p
		}
	}
	if text == nil || string(text.Body) != msg.Text {
		t.Errorf("text part %+v", text)
	}
	if html == nil || string(html.Body) != msg.HTML {
		t.Errorf("html part %+v", html)
	}
	if img == nil {
		t.Fatal("no inline image")
	}
	if cid := img.Header["Content-Id"]; len(cid) != 1 || cid[0] != "<chart1>" {
		t.Errorf("image Content-ID %v", cid)
	}
	if !bytes.Equal(img.Body, chart) {
		t.Error("inline image bytes differ")
	}
	if att == nil {
		t.Fatal("no attachment")
	}
	if !bytes.Equal(att.Body, xlsx) {
		t.Error("attachment bytes differ")
	}
	cd := att.Header["Content-Disposition"][0]
	disp, params, err := mime.ParseMediaType(cd)
	if err != nil || disp != "attachment" {
		t.Fatalf("Content-Disposition %q: %q %v", cd, disp, err)
	}
	// RFC 2231 (filename*0*=UTF-8''…) as Go's and most readers decode it.
	if params["filename"] != attName {
		t.Errorf("RFC 2231 filename %q, want %q (header %q)", params["filename"], attName, cd)
	}
	// The RFC 2047 fallback for readers that know only filename="…".
	i := strings.Index(cd, `filename="`)
	j := strings.Index(cd[i+10:], `"`)
	if w, err := dec.DecodeHeader(cd[i+10 : i+10+j]); err != nil || w != attName {
		t.Errorf("RFC 2047 filename %q (%v), want %q", w, err, attName)
	}
	if _, ctParams, _ := mime.ParseMediaType(att.Header["Content-Type"][0]); ctParams["name"] != attName {
		t.Errorf("Content-Type name %q", ctParams["name"])
	}
	for _, line := range strings.Split(string(r.Data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line of %d bytes", len(line))
		}
	}

	// A resend (a resumed run) carries the same Message-ID.
	if _, err := ch.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got = peer.received()
	m2, _ := mail.ReadMessage(bytes.NewReader(got[1].Data))
	if m2.Header.Get("Message-ID") != m.Header.Get("Message-ID") {
		t.Errorf("resend Message-ID %q != %q", m2.Header.Get("Message-ID"), m.Header.Get("Message-ID"))
	}
}

func TestSMTPImplicitTLSAndPlainLoopback(t *testing.T) {
	cert, caFile := testCert(t)
	msg := Message{Key: "k1", Recipient: Recipient{ID: "ceo", Email: "ceo@example.com"}, Subject: "Pack", Text: "hello"}
	for _, tc := range []struct {
		mode, security string
		wantTLS        bool
	}{{"tls", "tls", true}, {"plain", "none", false}} {
		t.Run(tc.mode, func(t *testing.T) {
			peer := startSMTP(t, tc.mode, cert)
			ch, err := NewSMTP("mail", SMTPConfig{Host: "127.0.0.1", Port: peer.port, Security: tc.security, CAFile: caFile,
				Username: peer.user, Password: Secret(peer.pass), From: "reports@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ch.Send(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
			got := peer.received()
			if len(got) != 1 || got[0].TLS != tc.wantTLS || !got[0].Authed {
				t.Fatalf("received %+v", got)
			}
		})
	}
	if _, err := NewSMTP("mail", SMTPConfig{Host: "smtp.example.com", Security: "none", From: "a@example.com"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("security none to a remote host: %v", err)
	}
}

func TestSMTPErrors(t *testing.T) {
	cert, caFile := testCert(t)
	peer := startSMTP(t, "starttls", cert)
	clock := newFakeClock()
	cfg := SMTPConfig{Host: "localhost", Port: peer.port, CAFile: caFile, Username: peer.user, Password: Secret(peer.pass), From: "reports@example.com"}
	ch, err := NewSMTP("mail", cfg, WithClock(clock), WithJitter(noJitter), WithRetry(RetryConfig{Attempts: 4, Initial: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	msg := Message{Key: "k1", Recipient: Recipient{ID: "x", Email: "gone@example.com"}, Subject: "s", Text: "t"}

	// 550 on RCPT: permanent, one attempt, the hint names the address.
	peer.rejectTo["gone@example.com"] = true
	rc, err := ch.Send(context.Background(), msg)
	var de *Error
	if !errors.As(err, &de) || !de.Permanent || rc.Attempts != 1 || !strings.Contains(de.Error(), "recipient") {
		t.Fatalf("rejected recipient: %v, attempts %d", err, rc.Attempts)
	}

	// 451 on DATA twice, then accepted: three attempts, waits 1s then 2s.
	msg.Recipient.Email = "ok@example.com"
	peer.failData = 2
	rc, err = ch.Send(context.Background(), msg)
	if err != nil || rc.Attempts != 3 {
		t.Fatalf("deferred twice: %v, attempts %d", err, rc.Attempts)
	}
	if s := clock.Sleeps(); len(s) != 2 || s[0] != time.Second || s[1] != 2*time.Second {
		t.Errorf("backoff waits %v, want [1s 2s]", s)
	}

	// Wrong password: permanent, the hint says what to fix, no password in it.
	bad := cfg
	bad.Password = "wrong-password"
	ch2, _ := NewSMTP("mail", bad, WithClock(clock))
	_, err = ch2.Send(context.Background(), msg)
	if !errors.As(err, &de) || !de.Permanent || !strings.Contains(err.Error(), "password") || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("bad password: %v", err)
	}

	// A certificate nobody vouches for: permanent, with the fix.
	noCA := cfg
	noCA.CAFile = ""
	ch3, _ := NewSMTP("mail", noCA, WithClock(clock))
	_, err = ch3.Send(context.Background(), msg)
	if !errors.As(err, &de) || !de.Permanent || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("untrusted certificate: %v", err)
	}

	// An address that is not one: permanent before anything is sent.
	msg.Recipient.Email = "not an address"
	if _, err := ch.Send(context.Background(), msg); !IsPermanent(err) {
		t.Errorf("bad address: %v", err)
	}
}
