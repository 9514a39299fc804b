package deliver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// WebhookConfig is a generic HTTPS endpoint that receives each message as
// signed JSON.
//
// The request is POST URL with Content-Type application/json and:
//
//	Idempotency-Key:       the message's key, the same on every retry and resend
//	X-Triscope-Timestamp:  Unix seconds when the attempt was signed
//	X-Triscope-Signature:  sha256=HEX, HEX = lowercase hex of
//	                       HMAC-SHA256(key = secret, data = timestamp + "." + body)
//
// A receiver recomputes the signature over the raw body, compares it in
// constant time, refuses timestamps more than five minutes away from its
// clock, and treats a repeated Idempotency-Key as the same delivery. The
// body is a WebhookPayload.
type WebhookConfig struct {
	// URL is the endpoint (https; http only on loopback).
	URL string `koanf:"url" yaml:"url"`
	// Secret signs every request. Required.
	Secret Secret `koanf:"secret" yaml:"secret"`
	// MaxBodyBytes bounds a request body; 0 means 10 MiB. A message whose
	// files do not fit fails permanently (use a folder channel for big files).
	MaxBodyBytes int64 `koanf:"max_body_bytes" yaml:"max_body_bytes,omitempty"`
	// OmitFiles leaves the attachments' and images' content out of the
	// payload (names, sizes and SHA-256 stay).
	OmitFiles bool `koanf:"omit_files" yaml:"omit_files,omitempty"`
	// HTTP tunes the client.
	HTTP HTTPConfig `koanf:"http" yaml:"http,omitempty"`
}

// WebhookPayload is the JSON a webhook receives.
type WebhookPayload struct {
	Event          string        `json:"event"` // "report.delivery"
	Report         string        `json:"report"`
	RunID          string        `json:"run_id"`
	Key            string        `json:"key"`
	Date           time.Time     `json:"date"`
	Recipient      Recipient     `json:"recipient"`
	Subject        string        `json:"subject,omitempty"`
	Text           string        `json:"text,omitempty"`
	Markdown       string        `json:"markdown,omitempty"`
	Link           string        `json:"link,omitempty"`
	UnsubscribeURL string        `json:"unsubscribe_url,omitempty"`
	Images         []WebhookFile `json:"images,omitempty"`
	Attachments    []WebhookFile `json:"attachments,omitempty"`
}

// WebhookFile is an image or attachment in a WebhookPayload.
type WebhookFile struct {
	Name        string `json:"name"`
	CID         string `json:"cid,omitempty"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	// Data is the content in standard base64, absent with omit_files.
	Data string `json:"data_base64,omitempty"`
}

// Webhook header names.
const (
	HeaderTimestamp      = "X-Triscope-Timestamp"
	HeaderSignature      = "X-Triscope-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// WebhookSignature is the value of X-Triscope-Signature for a body sent
// at timestamp (Unix seconds, as in X-Triscope-Timestamp).
func WebhookSignature(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type webhook struct {
	retrier
	url    string
	cfg    WebhookConfig
	client *http.Client
}

// NewWebhook returns a generic webhook channel.
func NewWebhook(name string, cfg WebhookConfig, opts ...Option) (Channel, error) {
	o := options(opts)
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("deliver: channel %q (webhook): url %q must be an absolute https URL", name, cfg.URL)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("deliver: channel %q (webhook): url must use https (http only on loopback)", name)
	}
	if u.User != nil {
		return nil, fmt.Errorf("deliver: channel %q (webhook): url must not carry credentials; the secret signs the requests", name)
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("deliver: channel %q (webhook): secret is required (it signs every request)", name)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 10 << 20
	}
	return &webhook{retrier: o.retrier(name, "webhook", RateConfig{}), url: u.String(), cfg: cfg, client: newHTTPClient(cfg.HTTP)}, nil
}

func (c *webhook) Name() string { return c.name }
func (c *webhook) Kind() string { return c.kind }

func (c *webhook) Send(ctx context.Context, msg Message) (Receipt, error) {
	var body []byte
	return c.run(ctx, msg, func(ctx context.Context, msg Message) (string, []string, error) {
		if body == nil {
			b, err := c.payload(msg)
			if err != nil {
				return "", nil, err
			}
			body = b
		}
		ts := strconv.FormatInt(c.clock.Now().Unix(), 10)
		h := http.Header{}
		h.Set(HeaderIdempotencyKey, msg.Key)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, WebhookSignature(c.cfg.Secret.Reveal(), ts, body))
		if _, err := post(ctx, c.client, c.url, "application/json", body, h); err != nil {
			return "", nil, err
		}
		return msg.Key, nil, nil
	})
}

func (c *webhook) payload(msg Message) ([]byte, error) {
	// Base64 grows content by a third: refuse before reading anything big.
	var total int64
	for _, a := range msg.Attachments {
		total += a.Size
	}
	for _, img := range msg.Images {
		total += int64(len(img.Data))
	}
	if !c.cfg.OmitFiles && total*4/3 > c.cfg.MaxBodyBytes {
		return nil, &Error{Op: "prepare", Permanent: true, Err: fmt.Errorf("the files take %d bytes, over the channel's max_body_bytes %d once base64-encoded", total, c.cfg.MaxBodyBytes),
			Hint: "raise max_body_bytes, set omit_files, or deliver big files to a folder channel"}
	}
	date := msg.Date
	if date.IsZero() {
		date = c.clock.Now()
	}
	p := WebhookPayload{Event: "report.delivery", Report: msg.Report, RunID: msg.RunID, Key: msg.Key, Date: date.UTC(),
		Recipient: msg.Recipient, Subject: msg.Subject, Text: msg.Text, Markdown: msg.Markdown, Link: msg.Link, UnsubscribeURL: msg.UnsubscribeURL}
	for _, img := range msg.Images {
		sum := sha256.Sum256(img.Data)
		f := WebhookFile{Name: img.Name, CID: img.CID, ContentType: "image/png", Size: int64(len(img.Data)), SHA256: hex.EncodeToString(sum[:])}
		if !c.cfg.OmitFiles {
			f.Data = base64.StdEncoding.EncodeToString(img.Data)
		}
		p.Images = append(p.Images, f)
	}
	for _, a := range msg.Attachments {
		data, err := readAttachment(a, c.cfg.MaxBodyBytes)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		f := WebhookFile{Name: a.Name, ContentType: contentTypeOf(a), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
		if !c.cfg.OmitFiles {
			f.Data = base64.StdEncoding.EncodeToString(data)
		}
		p.Attachments = append(p.Attachments, f)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > c.cfg.MaxBodyBytes {
		return nil, &Error{Op: "prepare", Permanent: true, Err: fmt.Errorf("the payload has %d bytes, over max_body_bytes %d", len(b), c.cfg.MaxBodyBytes),
			Hint: "raise max_body_bytes, set omit_files, or deliver big files to a folder channel"}
	}
	return b, nil
}

// readAttachment reads a whole attachment, at most limit bytes.
func readAttachment(a Attachment, limit int64) ([]byte, error) {
	rc, err := a.Open()
	if err != nil {
		return nil, &Error{Op: "read file", Permanent: true, Err: err, Hint: "the rendered file could not be read"}
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, &Error{Op: "read file", Permanent: true, Err: err, Hint: "the rendered file could not be read"}
	}
	if int64(len(b)) > limit {
		return nil, &Error{Op: "read file", Permanent: true, Err: fmt.Errorf("file %s is over %d bytes", a.Name, limit)}
	}
	return b, nil
}
