// Package deliver sends rendered reports to the channels an administrator
// configured: email over SMTP, WeCom and DingTalk group robots, a generic
// signed webhook and an archive folder.
//
// A report author picks a channel by name and names recipients; hosts, URLs,
// keys and folders come only from the administrator's configuration (Config),
// so nothing leaves the machine except towards a configured channel.
//
// Every channel returned by a Registry retries transient failures (network
// errors, HTTP 5xx and 429, SMTP 4xx, robots' rate-limit codes) with
// exponential backoff and jitter, up to a bounded number of attempts, and
// never retries permanent ones (HTTP 4xx, SMTP 5xx, a bad address, a bad
// signature). The robots are paced: at most N messages in any window of the
// configured length (20 a minute by default); a message over the rate waits
// for its turn instead of failing.
//
// Each Message carries an idempotency key that is stable for one (run,
// recipient, channel): the email Message-ID, the webhook's Idempotency-Key
// header and the archive file's location derive from it, so a resend after a
// crash is recognisable by the receiver. The run ledger (reports/schedule)
// records each delivery before and after it is sent.
package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Channel delivers one message to one recipient through one configured
// channel. Implementations are safe for concurrent use.
type Channel interface {
	// Name is the channel's configured name ("mail", "east-wecom").
	Name() string
	// Kind is the channel's kind: smtp, wecom, dingtalk, webhook or folder.
	Kind() string
	// Send delivers msg. A returned error is an *Error telling which
	// channel failed, whether it was permanent and what to fix.
	Send(ctx context.Context, msg Message) (Receipt, error)
}

// Message is one rendered report for one recipient.
type Message struct {
	// Report is the report's slug; the folder channel files by it.
	Report string
	// RunID identifies the run (schedule and fire time) in the ledger.
	RunID string
	// Key is the idempotency key, stable for one (run, recipient, channel):
	// a resend after a crash carries the same key. Required.
	Key string
	// MessageID overrides the email Message-ID (without angle brackets);
	// empty means Key@domain-of-From.
	MessageID string
	// Date is the instant the run is for (its fire time); the folder
	// channel files under its day. Zero means now.
	Date time.Time

	Recipient Recipient

	// Subject is the email subject and the robots' title.
	Subject string
	// Text is the plain-text body (the email's text/plain alternative).
	Text string
	// HTML is the email's HTML body; inline images are referenced from it
	// as <img src="cid:CID">.
	HTML string
	// Markdown is the robots' summary; empty means Text.
	Markdown string
	// Link points back to the live page or the run's history entry;
	// LinkLabel is its text in the robots' summary (default "Open the
	// report"; the caller passes the recipient's language).
	Link      string
	LinkLabel string
	// UnsubscribeURL, when set, becomes the List-Unsubscribe header (and a
	// link in the robots' summary labelled UnsubscribeLabel, default
	// "Unsubscribe").
	UnsubscribeURL   string
	UnsubscribeLabel string

	// Images are inline images (PNG charts) for the HTML body; robots that
	// accept images post them as image messages.
	Images []Image
	// Attachments are the rendered files (PDF, XLSX, CSV, Parquet).
	Attachments []Attachment
}

// Recipient is who a message is for. Which field a channel uses depends on
// its kind: Email for SMTP, ID for the folder, the robot ids for mentions.
type Recipient struct {
	// ID is the recipient's stable identifier (user name or slug).
	ID string `json:"id"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// Email is the mailbox for SMTP channels.
	Email string `json:"email,omitempty"`
	// WeComUserID and DingTalkUserID mention the recipient in a robot's
	// group message; Mobile mentions by phone number.
	WeComUserID    string `json:"wecom_userid,omitempty"`
	DingTalkUserID string `json:"dingtalk_userid,omitempty"`
	Mobile         string `json:"mobile,omitempty"`
}

// Image is an inline PNG image.
type Image struct {
	// CID is the Content-ID the HTML body refers to ("chart1").
	CID string
	// Name is the file name shown by mail clients ("bookings.png").
	Name string
	// Data is the PNG.
	Data []byte
}

// Attachment is a rendered file. Open is called once per attempt, so a
// retried send reads the file again.
type Attachment struct {
	// Name is the file name as the recipient sees it; it may be Chinese.
	Name string
	// ContentType is the MIME type; empty means from the name's extension.
	ContentType string
	// Size is the length in bytes (checked against channel limits before
	// anything is sent).
	Size int64
	// Open returns the content.
	Open func() (io.ReadCloser, error)
}

// BytesAttachment is an attachment held in memory.
func BytesAttachment(name, contentType string, data []byte) Attachment {
	return Attachment{Name: name, ContentType: contentType, Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// FileAttachment is an attachment read from a file at send time.
func FileAttachment(name, contentType, path string) (Attachment, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Attachment{}, err
	}
	if !st.Mode().IsRegular() {
		return Attachment{}, fmt.Errorf("deliver: attachment %s: not a regular file", path)
	}
	return Attachment{Name: name, ContentType: contentType, Size: st.Size(),
		Open: func() (io.ReadCloser, error) { return os.Open(path) }}, nil
}

// Receipt says what a channel did with a message.
type Receipt struct {
	Channel string
	Kind    string
	// ID is what the peer knows the message by: the Message-ID, the
	// Idempotency-Key, the robot's media id, the archived path.
	ID string
	// Attempts is how many tries it took (1 when the first one worked).
	Attempts int
	// At is when the last attempt finished.
	At time.Time
	// Notes say what the channel could not carry (e.g. a DingTalk robot
	// takes no files: the attachments were left out and the link sent).
	Notes []string
}

// Error is a failed delivery. Permanent errors are not retried.
type Error struct {
	Channel   string
	Kind      string
	Op        string // what was being done ("send", "upload file", "dial")
	Permanent bool
	// Status is the HTTP status, the SMTP reply code or the robot's
	// errcode, when there was one.
	Status int
	// Hint says what to fix, for the report's owner or the administrator.
	Hint string
	Err  error
}

func (e *Error) Error() string {
	kind := "transient"
	if e.Permanent {
		kind = "permanent"
	}
	s := fmt.Sprintf("deliver: channel %q (%s): %s: %v (%s)", e.Channel, e.Kind, e.Op, e.Err, kind)
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a delivery error that retrying cannot
// fix. Errors that are not an *Error count as transient, except a
// cancelled context.
func IsPermanent(err error) bool {
	var de *Error
	if errors.As(err, &de) {
		return de.Permanent
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Secret is a configuration value that never appears in logs, errors,
// JSON or YAML output; Reveal returns it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `deliver.Secret("` + s.String() + `")` }

// MarshalText writes the redacted form: a configuration dump shows that a
// secret is set, never what it is.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Clock is the time source of retries and pacing; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}
