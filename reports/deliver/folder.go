package deliver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// FolderConfig is an archive folder. Each message's files are written to
//
//	ROOT/<report>/<YYYY-MM-DD>/<recipient>/<file>
//
// with the day of the message's Date in TimeZone. Folders are created 0700
// and files 0600; each file is written to a temporary name and renamed, so
// a reader never sees half a file and a resend replaces it whole. No
// symbolic link below ROOT is followed: a link planted where a folder or
// file should be fails the delivery. Every name is cleaned (no separators,
// "..", control characters or leading dots).
type FolderConfig struct {
	// Root is the archive's folder (created 0700 if missing).
	Root string `koanf:"root" yaml:"root"`
	// TimeZone names the zone of the day folder; "" means Asia/Shanghai.
	TimeZone string `koanf:"timezone" yaml:"timezone,omitempty"`
}

type folder struct {
	retrier
	root string
	loc  *time.Location
}

// NewFolder returns an archive folder channel. It writes the attachments;
// a message without attachments is written as message.txt (its text).
func NewFolder(name string, cfg FolderConfig, opts ...Option) (Channel, error) {
	o := options(opts)
	if cfg.Root == "" || !filepath.IsAbs(cfg.Root) {
		return nil, fmt.Errorf("deliver: channel %q (folder): root must be an absolute path, got %q", name, cfg.Root)
	}
	tz := cfg.TimeZone
	if tz == "" {
		tz = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("deliver: channel %q (folder): timezone: %w", name, err)
	}
	return &folder{retrier: o.retrier(name, "folder", RateConfig{}), root: filepath.Clean(cfg.Root), loc: loc}, nil
}

func (c *folder) Name() string { return c.name }
func (c *folder) Kind() string { return c.kind }

func (c *folder) Send(ctx context.Context, msg Message) (Receipt, error) {
	return c.run(ctx, msg, func(ctx context.Context, msg Message) (string, []string, error) {
		if err := os.MkdirAll(c.root, 0o700); err != nil {
			return "", nil, &Error{Op: "create root", Permanent: true, Err: err, Hint: "check the channel's root folder and its permissions"}
		}
		date := msg.Date
		if date.IsZero() {
			date = c.clock.Now()
		}
		recipient := msg.Recipient.ID
		if recipient == "" {
			recipient = msg.Recipient.Email
		}
		dirs := []string{
			SafeName(msg.Report, "report"),
			date.In(c.loc).Format("2006-01-02"),
			SafeName(recipient, "recipient"),
		}
		files := msg.Attachments
		if len(files) == 0 {
			files = []Attachment{BytesAttachment("message.txt", "text/plain; charset=utf-8", []byte(msg.Text))}
		}
		seen := map[string]bool{}
		for _, a := range files {
			if err := ctx.Err(); err != nil {
				return "", nil, err
			}
			name := SafeName(a.Name, "file")
			if seen[name] {
				return "", nil, &Error{Op: "write", Permanent: true, Err: fmt.Errorf("two files are named %q after cleaning", name), Hint: "give the report's files distinct names"}
			}
			seen[name] = true
			rc, err := a.Open()
			if err != nil {
				return "", nil, &Error{Op: "read file", Permanent: true, Err: err, Hint: "the rendered file could not be read"}
			}
			err = writePrivate(c.root, dirs, name, tempName(name, msg.Key), rc)
			rc.Close()
			if err != nil {
				return "", nil, &Error{Op: "write " + path.Join(append(dirs, name)...), Permanent: true, Err: err, Hint: "check the archive folder: free space, permissions, and no symbolic links below its root"}
			}
		}
		return path.Join(dirs...), nil, nil
	})
}

// SafeName makes s usable as one path component: separators, control
// characters, NUL and the characters Windows refuses become '_', leading
// dots and trailing dots and spaces go, "." and ".." and "" become
// fallback, and the result is at most 200 bytes (the extension kept).
// Chinese and other letters stay.
func SafeName(s, fallback string) string {
	s = strings.ToValidUTF8(s, "_")
	s = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f:
			return '_'
		case strings.ContainsRune(`/\<>:"|?*`, r):
			return '_'
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	s = strings.TrimRight(s, ". ")
	s = strings.TrimLeft(s, ".")
	if s == "" {
		return fallback
	}
	const max = 200
	if len(s) > max {
		ext := filepath.Ext(s)
		if len(ext) > 20 || !utf8.ValidString(ext) {
			ext = ""
		}
		s = truncateUTF8(s[:len(s)-len(ext)], max-len(ext)) + ext
	}
	return s
}

// tempName is a private temporary name beside the final one. With a
// delivery key it is the same for every send of that delivery: a process
// killed while writing leaves its temporary file behind, and the resend of
// the same delivery after the restart (the ledger has it pending) replaces
// it, so none is left (chaos report found them). The ledger sends one
// delivery at most once at a time, so no live writer shares the name.
// Without a key it is random.
func tempName(final, key string) string {
	var b [8]byte
	if key != "" {
		h := sha256.Sum256([]byte(key + "\x00" + final))
		copy(b[:], h[:])
	} else {
		_, _ = rand.Read(b[:])
	}
	return ".tmp-" + hex.EncodeToString(b[:]) + "-" + truncateUTF8(final, 100)
}

// contentTypeOf is an attachment's MIME type: declared, else from its
// extension, else application/octet-stream.
func contentTypeOf(a Attachment) string {
	if a.ContentType != "" {
		return a.ContentType
	}
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(a.Name))); t != "" {
		return t
	}
	return "application/octet-stream"
}
