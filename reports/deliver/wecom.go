package deliver

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// WeComConfig is a WeCom (企业微信) group robot.
type WeComConfig struct {
	// Webhook is the robot's address as the group settings show it,
	// https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY. The key
	// is a secret: anyone holding it can post to the group.
	Webhook Secret `koanf:"webhook" yaml:"webhook"`
	// Rate paces the robot (default 20 messages a minute).
	Rate RateConfig `koanf:"rate" yaml:"rate,omitempty"`
	// HTTP tunes the client.
	HTTP HTTPConfig `koanf:"http" yaml:"http,omitempty"`
}

// WeCom's documented limits for group robots.
const (
	wecomMarkdownMax = 4096     // bytes of markdown.content
	wecomImageMax    = 2 << 20  // bytes of an image before base64
	wecomFileMax     = 20 << 20 // bytes of an uploaded file
	wecomFileMin     = 5        // bytes: upload_media refuses smaller files
)

var (
	wecomRateCodes = map[int]bool{45009: true} // api freq out of limit
	wecomHints     = map[int]string{
		93000: "the robot's webhook key is invalid or the robot was removed from the group: update the channel's webhook",
		40058: "WeCom rejected a field of the message (too long or malformed)",
		40006: "the file is too large or empty for WeCom",
		40009: "the image is too large or not PNG/JPG for WeCom",
	}
)

type wecom struct {
	retrier
	send, upload Secret // URLs holding the key
	client       *http.Client
	pace         *pacer
}

// NewWeCom returns a WeCom group robot channel. It posts the summary as a
// markdown message, each image as an image message (base64 and md5), and
// each attachment as a file message after uploading it with upload_media.
func NewWeCom(name string, cfg WeComConfig, opts ...Option) (Channel, error) {
	o := options(opts)
	u, err := url.Parse(cfg.Webhook.Reveal())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Query().Get("key") == "" {
		return nil, fmt.Errorf("deliver: channel %q (wecom): webhook must be the robot's URL, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…", name)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("deliver: channel %q (wecom): webhook must use https (http only for a loopback test server)", name)
	}
	up := *u
	up.Path = strings.TrimSuffix(u.Path, "/send") + "/upload_media"
	q := url.Values{"key": {u.Query().Get("key")}, "type": {"file"}}
	up.RawQuery = q.Encode()
	c := &wecom{
		retrier: o.retrier(name, "wecom", cfg.Rate),
		send:    Secret(u.String()), upload: Secret(up.String()),
		client: newHTTPClient(cfg.HTTP),
		pace:   newPacer(o.clock, cfg.Rate),
	}
	return c, nil
}

func (c *wecom) Name() string { return c.name }
func (c *wecom) Kind() string { return c.kind }

func (c *wecom) Send(ctx context.Context, msg Message) (Receipt, error) {
	// The parts already posted are not posted again when a later part
	// fails and the send is retried: the group would see them twice.
	parts, notes := c.parts(msg)
	done := 0
	return c.run(ctx, msg, func(ctx context.Context, msg Message) (string, []string, error) {
		for done < len(parts) {
			if err := parts[done](ctx); err != nil {
				return "", nil, err
			}
			done++
		}
		return msg.Key, notes, nil
	})
}

// parts are the robot messages of msg, in order.
func (c *wecom) parts(msg Message) ([]func(context.Context) error, []string) {
	var notes []string
	mention := ""
	if msg.Recipient.WeComUserID != "" {
		mention = "<@" + msg.Recipient.WeComUserID + ">"
	}
	md := summary(msg, wecomMarkdownMax, mention)
	parts := []func(context.Context) error{func(ctx context.Context) error {
		return c.post(ctx, map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": md}})
	}}
	for _, img := range msg.Images {
		if len(img.Data) > wecomImageMax {
			notes = append(notes, fmt.Sprintf("image %s (%d bytes) is over WeCom's 2 MB limit: left out", img.Name, len(img.Data)))
			continue
		}
		sum := md5.Sum(img.Data)
		body := map[string]any{"msgtype": "image", "image": map[string]string{
			"base64": base64.StdEncoding.EncodeToString(img.Data),
			"md5":    hex.EncodeToString(sum[:]),
		}}
		parts = append(parts, func(ctx context.Context) error { return c.post(ctx, body) })
	}
	for _, a := range msg.Attachments {
		if a.Size > wecomFileMax || a.Size < wecomFileMin {
			notes = append(notes, fmt.Sprintf("file %s (%d bytes) is outside WeCom's 5 B–20 MB limits: left out; the link leads to it", a.Name, a.Size))
			continue
		}
		a := a
		var mediaID string
		parts = append(parts, func(ctx context.Context) error {
			id, err := c.uploadFile(ctx, a)
			mediaID = id
			return err
		}, func(ctx context.Context) error {
			return c.post(ctx, map[string]any{"msgtype": "file", "file": map[string]string{"media_id": mediaID}})
		})
	}
	return parts, notes
}

// post sends one robot message, paced.
func (c *wecom) post(ctx context.Context, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	if err := c.pace.wait(ctx); err != nil {
		return err
	}
	res, err := post(ctx, c.client, c.send.Reveal(), "application/json", b, nil)
	if err != nil {
		return err
	}
	reply, err := parseRobotReply("WeCom", res.Body)
	if err != nil {
		return err
	}
	if reply.ErrCode != 0 {
		return robotError("WeCom", reply, wecomRateCodes, wecomHints)
	}
	return nil
}

// uploadFile sends a as multipart/form-data field "media" to upload_media
// and returns the media_id (valid three days).
func (c *wecom) uploadFile(ctx context.Context, a Attachment) (string, error) {
	rc, err := a.Open()
	if err != nil {
		return "", &Error{Op: "upload file", Permanent: true, Err: err, Hint: "the rendered file could not be read"}
	}
	defer rc.Close()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="media"; filename="%s"; filelength=%d`, quoteParam(a.Name), a.Size))
	h.Set("Content-Type", "application/octet-stream")
	pw, err := w.CreatePart(h)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(pw, io.LimitReader(rc, wecomFileMax+1))
	if err != nil {
		return "", &Error{Op: "upload file", Permanent: true, Err: err, Hint: "the rendered file could not be read"}
	}
	if n != a.Size {
		return "", &Error{Op: "upload file", Permanent: true, Err: fmt.Errorf("file %s has %d bytes, expected %d", a.Name, n, a.Size)}
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	res, err := post(ctx, c.client, c.upload.Reveal(), w.FormDataContentType(), buf.Bytes(), nil)
	if err != nil {
		var de *Error
		if errors.As(err, &de) {
			de.Op = "upload file " + strconv.Quote(a.Name)
		}
		return "", err
	}
	reply, err := parseRobotReply("WeCom", res.Body)
	if err != nil {
		return "", err
	}
	if reply.ErrCode != 0 || reply.MediaID == "" {
		e := robotError("WeCom", reply, wecomRateCodes, wecomHints)
		e.Op = "upload file " + strconv.Quote(a.Name)
		return "", e
	}
	return reply.MediaID, nil
}

// quoteParam makes s safe inside a quoted MIME parameter: no quotes,
// backslashes or line breaks.
func quoteParam(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}
