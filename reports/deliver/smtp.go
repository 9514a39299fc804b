package deliver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig is an outgoing mail server.
type SMTPConfig struct {
	// Host is the server's name (it must match its certificate).
	Host string `koanf:"host" yaml:"host"`
	// Port defaults by Security: 587 starttls, 465 tls, 25 none.
	Port int `koanf:"port" yaml:"port,omitempty"`
	// Security is "starttls" (the default: STARTTLS is required), "tls"
	// (implicit TLS, "SMTPS") or "none" (plain text, refused unless Host is
	// a loopback address: a local relay).
	Security string `koanf:"security" yaml:"security,omitempty"`
	// Username and Password authenticate; no username means no AUTH.
	Username string `koanf:"username" yaml:"username,omitempty"`
	Password Secret `koanf:"password" yaml:"password,omitempty"`
	// Auth is the mechanism: "" picks the strongest the server offers
	// (SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN …), or plain, login,
	// cram-md5, scram-sha-1, scram-sha-256, xoauth2.
	Auth string `koanf:"auth" yaml:"auth,omitempty"`
	// From is the sender, "Name <address>"; ReplyTo is optional.
	From    string `koanf:"from" yaml:"from"`
	ReplyTo string `koanf:"reply_to" yaml:"reply_to,omitempty"`
	// HELO is the name given in EHLO; "" means this machine's host name.
	HELO string `koanf:"helo" yaml:"helo,omitempty"`
	// CAFile is a PEM file of certificate authorities trusted for this
	// server in addition to the system's (a company's own CA).
	CAFile string `koanf:"ca_file" yaml:"ca_file,omitempty"`
	// Timeout bounds a connection and each command; 0 means 60s.
	Timeout time.Duration `koanf:"timeout" yaml:"timeout,omitempty"`
	// MaxMessageBytes bounds a message once encoded; 0 means 25 MiB.
	MaxMessageBytes int64 `koanf:"max_message_bytes" yaml:"max_message_bytes,omitempty"`
}

type smtpChannel struct {
	retrier
	cfg    SMTPConfig
	from   *mail.Address
	reply  *mail.Address
	domain string
	port   int
	opts   []gomail.Option
}

// NewSMTP returns an email channel. Each message is multipart: a plain
// text part with the HTML alternative, the HTML's inline images (by
// Content-ID) and the attachments, whose names are encoded both as RFC
// 2231 parameters (filename*0*=…) and, for older clients, RFC 2047
// words. The Message-ID is Message.MessageID, or Message.Key at the
// sender's domain: a resend carries the same one.
func NewSMTP(name string, cfg SMTPConfig, opts ...Option) (Channel, error) {
	o := options(opts)
	bad := func(format string, a ...any) error {
		return fmt.Errorf("deliver: channel %q (smtp): "+format, append([]any{name}, a...)...)
	}
	if cfg.Host == "" {
		return nil, bad("host is required")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, bad("from %q is not an address: %v", cfg.From, err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	c := &smtpChannel{retrier: o.retrier(name, "smtp", RateConfig{}), cfg: cfg, from: from, domain: from.Address[at+1:]}
	if cfg.ReplyTo != "" {
		if c.reply, err = mail.ParseAddress(cfg.ReplyTo); err != nil {
			return nil, bad("reply_to %q is not an address: %v", cfg.ReplyTo, err)
		}
	}
	if c.cfg.Timeout <= 0 {
		c.cfg.Timeout = 60 * time.Second
	}
	if c.cfg.MaxMessageBytes <= 0 {
		c.cfg.MaxMessageBytes = 25 << 20
	}
	tlsConf := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, bad("ca_file: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, bad("ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	port := cfg.Port
	gopts := []gomail.Option{gomail.WithTimeout(c.cfg.Timeout), gomail.WithTLSConfig(tlsConf)}
	encrypted := true
	switch cfg.Security {
	case "", "starttls":
		if port == 0 {
			port = 587
		}
		gopts = append(gopts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "tls":
		if port == 0 {
			port = 465
		}
		gopts = append(gopts, gomail.WithSSL())
	case "none":
		if !isLoopbackHost(cfg.Host) {
			return nil, bad("security none sends mail and passwords in plain text: allowed only to a loopback relay (localhost, 127.0.0.1, ::1), not %q; use starttls or tls", cfg.Host)
		}
		if port == 0 {
			port = 25
		}
		encrypted = false
		gopts = append(gopts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, bad("security %q: want starttls, tls or none", cfg.Security)
	}
	gopts = append(gopts, gomail.WithPort(port))
	c.port = port
	if cfg.HELO != "" {
		gopts = append(gopts, gomail.WithHELO(cfg.HELO))
	}
	if cfg.Username == "" {
		gopts = append(gopts, gomail.WithSMTPAuth(gomail.SMTPAuthNoAuth))
	} else {
		mech := gomail.SMTPAuthAutoDiscover
		switch strings.ToLower(cfg.Auth) {
		case "":
			if !encrypted {
				mech = gomail.SMTPAuthPlainNoEnc // loopback only, checked above
			}
		case "plain":
			mech = gomail.SMTPAuthPlain
			if !encrypted {
				mech = gomail.SMTPAuthPlainNoEnc
			}
		case "login":
			mech = gomail.SMTPAuthLogin
			if !encrypted {
				mech = gomail.SMTPAuthLoginNoEnc
			}
		case "cram-md5":
			mech = gomail.SMTPAuthCramMD5
		case "scram-sha-1":
			mech = gomail.SMTPAuthSCRAMSHA1
		case "scram-sha-256":
			mech = gomail.SMTPAuthSCRAMSHA256
		case "xoauth2":
			mech = gomail.SMTPAuthXOAUTH2
		default:
			return nil, bad("auth %q: want plain, login, cram-md5, scram-sha-1, scram-sha-256 or xoauth2", cfg.Auth)
		}
		gopts = append(gopts, gomail.WithSMTPAuth(mech), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password.Reveal()))
	}
	c.opts = gopts
	return c, nil
}

func (c *smtpChannel) Name() string { return c.name }
func (c *smtpChannel) Kind() string { return c.kind }

// MessageIDFor is the Message-ID (without angle brackets) that the channel
// gives a message with this key: the key, cleaned to atext, at domain.
func MessageIDFor(key, domain string) string {
	clean := strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)) {
			return r
		}
		return '-'
	}, key)
	return strings.Trim(clean, ".") + "@" + domain
}

func (c *smtpChannel) Send(ctx context.Context, msg Message) (Receipt, error) {
	to, err := mail.ParseAddress(msg.Recipient.Email)
	if err != nil || msg.Recipient.Email == "" {
		return Receipt{}, &Error{Channel: c.name, Kind: c.kind, Op: "address", Permanent: true, Err: fmt.Errorf("recipient %q has no valid email address (%q)", msg.Recipient.ID, msg.Recipient.Email),
			Hint: "set the recipient's email in their profile"}
	}
	if msg.Recipient.Name != "" {
		to.Name = msg.Recipient.Name
	}
	size := int64(len(msg.HTML) + len(msg.Text))
	for _, img := range msg.Images {
		size += int64(len(img.Data))
	}
	for _, a := range msg.Attachments {
		size += a.Size
	}
	if size*4/3 > c.cfg.MaxMessageBytes {
		return Receipt{}, &Error{Channel: c.name, Kind: c.kind, Op: "prepare", Permanent: true, Err: fmt.Errorf("the message would take about %d bytes encoded, over max_message_bytes %d", size*4/3, c.cfg.MaxMessageBytes),
			Hint: "send big files to a folder channel and mail the link, or raise max_message_bytes to what the mail server accepts"}
	}
	id := msg.MessageID
	if id == "" {
		id = MessageIDFor(msg.Key, c.domain)
	}
	return c.run(ctx, msg, func(ctx context.Context, msg Message) (string, []string, error) {
		m, err := c.build(msg, to, id)
		if err != nil {
			return "", nil, err
		}
		client, err := gomail.NewClient(c.cfg.Host, c.opts...)
		if err != nil {
			return "", nil, &Error{Op: "configure", Permanent: true, Err: err}
		}
		if err := client.DialAndSendWithContext(ctx, m); err != nil {
			return "", nil, c.classify(err)
		}
		return "<" + id + ">", nil, nil
	})
}

// build makes the go-mail message; attachments are read anew each attempt.
func (c *smtpChannel) build(msg Message, to *mail.Address, id string) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(c.from)
	m.ToMailAddress(to)
	if c.reply != nil {
		m.ReplyToMailAddress(c.reply)
	}
	m.Subject(msg.Subject)
	m.SetMessageIDWithValue(id)
	m.SetDateWithValue(c.clock.Now())
	m.SetUserAgent("Triscope")
	// Automatic mail: no out-of-office replies.
	m.SetBulk()
	if msg.UnsubscribeURL != "" {
		u, err := url.Parse(msg.UnsubscribeURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "mailto") {
			return nil, &Error{Op: "prepare", Permanent: true, Err: fmt.Errorf("unsubscribe URL %q is not an http(s) or mailto URL", msg.UnsubscribeURL)}
		}
		m.SetListUnsubscribe(u.String())
	}
	text := msg.Text
	if text == "" && msg.HTML == "" {
		text = msg.Subject
	}
	switch {
	case msg.HTML != "" && text != "":
		m.SetBodyString(gomail.TypeTextPlain, text)
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	case msg.HTML != "":
		m.SetBodyString(gomail.TypeTextHTML, msg.HTML)
	default:
		m.SetBodyString(gomail.TypeTextPlain, text)
	}
	for _, img := range msg.Images {
		if img.CID == "" {
			return nil, &Error{Op: "prepare", Permanent: true, Err: fmt.Errorf("inline image %q has no CID", img.Name)}
		}
		name := img.Name
		if name == "" {
			name = img.CID + ".png"
		}
		ct, cd := fileHeaders("inline", name, "image/png")
		if err := m.EmbedReader(name, bytes.NewReader(img.Data), gomail.WithFileContentType("image/png"), withHeaders(map[string]string{
			"Content-Type": ct, "Content-Disposition": cd, "Content-ID": "<" + img.CID + ">",
		})); err != nil {
			return nil, err
		}
	}
	for _, a := range msg.Attachments {
		rc, err := a.Open()
		if err != nil {
			return nil, &Error{Op: "read file", Permanent: true, Err: err, Hint: "the rendered file could not be read"}
		}
		ctype := contentTypeOf(a)
		ct, cd := fileHeaders("attachment", a.Name, ctype)
		err = m.AttachReader(a.Name, io.LimitReader(rc, c.cfg.MaxMessageBytes), gomail.WithFileContentType(gomail.ContentType(ctype)), withHeaders(map[string]string{
			"Content-Type": ct, "Content-Disposition": cd,
		}))
		rc.Close()
		if err != nil {
			return nil, &Error{Op: "read file", Permanent: true, Err: err, Hint: "the rendered file could not be read"}
		}
	}
	return m, nil
}

func withHeaders(h map[string]string) gomail.FileOption {
	return func(f *gomail.File) {
		for k, v := range h {
			f.Header.Set(k, v)
		}
	}
}

// fileHeaders are the Content-Type and Content-Disposition of a part
// named name. An ASCII name is a plain quoted parameter; any other name is
// sent twice: as an RFC 2047 encoded word in the quoted parameter (read by
// clients that predate RFC 2231, Outlook among them) and as RFC 2231
// UTF-8 percent-encoded continuations (name*0*=…), which RFC 2231
// readers prefer.
func fileHeaders(disposition, name, ctype string) (contentType, contentDisposition string) {
	name = quoteParam(name)
	if isPlainASCII(name) {
		return fmt.Sprintf(`%s; name="%s"`, ctype, name), fmt.Sprintf(`%s; filename="%s"`, disposition, name)
	}
	word := mime.BEncoding.Encode("UTF-8", name)
	return fmt.Sprintf(`%s; name="%s";%s`, ctype, word, rfc2231("name", name)),
		fmt.Sprintf(`%s; filename="%s";%s`, disposition, word, rfc2231("filename", name))
}

// rfc2231 encodes value as RFC 2231 continuations of param, each on its
// own folded line and short enough for any header line limit.
func rfc2231(param, value string) string {
	const hex = "0123456789ABCDEF"
	var pieces []string
	var cur strings.Builder
	cur.WriteString("UTF-8''")
	// Pieces end on character boundaries: each decodes on its own too.
	for _, r := range value {
		var enc strings.Builder
		var buf [4]byte
		for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
			if b < 0x80 && (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0) {
				enc.WriteByte(b)
			} else {
				enc.WriteString("%" + string(hex[b>>4]) + string(hex[b&15]))
			}
		}
		if cur.Len()+enc.Len() > 60 {
			pieces = append(pieces, cur.String())
			cur.Reset()
		}
		cur.WriteString(enc.String())
	}
	pieces = append(pieces, cur.String())
	var out strings.Builder
	for i, p := range pieces {
		fmt.Fprintf(&out, "\r\n %s*%d*=%s", param, i, p)
		if i < len(pieces)-1 {
			out.WriteString(";")
		}
	}
	return out.String()
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// classify turns a go-mail or network error into an *Error with a hint.
func (c *smtpChannel) classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		e := &Error{Status: code, Permanent: !se.IsTemp(), Err: err}
		switch {
		case se.Reason == gomail.ErrSMTPRcptTo && e.Permanent:
			e.Hint = "the mail server refused the recipient: check the address in the recipient's profile"
		case se.Reason == gomail.ErrSMTPMailFrom && e.Permanent:
			e.Hint = "the mail server refused the sender: check smtp from (the account may not send as that address)"
		case e.Permanent:
			e.Hint = "the mail server refused the message"
		default:
			e.Hint = "the mail server deferred the message; will retry"
		}
		return e
	}
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	if errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) {
		return &Error{Op: "tls", Permanent: true, Err: err, Hint: "the mail server's certificate is not trusted for this host: set smtp host to the name on the certificate, or ca_file to its CA"}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "SMTP AUTH failed") || strings.Contains(msg, "535"):
		return &Error{Op: "auth", Permanent: true, Err: err, Hint: "check the channel's username and password"}
	case strings.Contains(msg, "does not support SMTP AUTH") || strings.Contains(msg, "not supported") || strings.Contains(msg, "unsupported SMTP AUTH"):
		return &Error{Op: "auth", Permanent: true, Err: err, Hint: "the server offers no matching AUTH mechanism: check auth, or security (many servers offer AUTH only after TLS)"}
	case strings.Contains(msg, "STARTTLS"):
		return &Error{Op: "starttls", Permanent: true, Err: err, Hint: "the server does not offer STARTTLS on this port: use security tls (port 465), or a loopback relay with none"}
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Op: "connect", Err: err, Hint: fmt.Sprintf("could not talk to %s: check host, port and that the server is reachable", net.JoinHostPort(c.cfg.Host, fmt.Sprint(c.port)))}
	}
	return &Error{Err: err, Hint: "unexpected error talking to the mail server; will retry"}
}
