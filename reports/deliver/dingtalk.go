package deliver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// DingTalkConfig is a DingTalk (钉钉) custom group robot.
type DingTalkConfig struct {
	// Webhook is the robot's address as the group settings show it,
	// https://oapi.dingtalk.com/robot/send?access_token=TOKEN (a secret).
	Webhook Secret `koanf:"webhook" yaml:"webhook"`
	// Secret is the robot's signing secret (加签, "SEC…"). Every request
	// is then signed: sign = urlencode(base64(HMAC-SHA256(secret,
	// timestamp + "\n" + secret))) with timestamp in milliseconds. Empty
	// when the robot is secured by keywords or an IP allow-list instead.
	Secret Secret `koanf:"secret" yaml:"secret,omitempty"`
	// Style is "actionCard" (a card with a button to the link; the
	// default when the message has a link) or "markdown".
	Style string `koanf:"style" yaml:"style,omitempty"`
	// Rate paces the robot (default 20 messages a minute).
	Rate RateConfig `koanf:"rate" yaml:"rate,omitempty"`
	// HTTP tunes the client.
	HTTP HTTPConfig `koanf:"http" yaml:"http,omitempty"`
}

const dingtalkTextMax = 18000 // bytes of markdown text kept (DingTalk's limit is about 20000)

var (
	dingtalkRateCodes = map[int]bool{130101: true, 410100: true} // send too fast
	dingtalkHints     = map[int]string{
		310000: "DingTalk refused the robot's security check: the channel's secret must be the robot's 加签 secret (SEC…), the message must hold a configured keyword, or this server's address must be on the robot's IP allow-list",
		300001: "the robot's access_token is invalid: update the channel's webhook",
		400013: "the group of this robot was dissolved",
		400101: "the robot was deactivated: update the channel's webhook",
		400102: "the robot was stopped: restart it in the group settings",
	}
)

type dingtalk struct {
	retrier
	webhook Secret
	secret  Secret
	style   string
	client  *http.Client
	pace    *pacer
}

// NewDingTalk returns a DingTalk custom robot channel. A robot takes
// neither files nor uploaded images: the message is a markdown or action
// card summary with the link back to the report, and the receipt notes
// what was left out.
func NewDingTalk(name string, cfg DingTalkConfig, opts ...Option) (Channel, error) {
	o := options(opts)
	u, err := url.Parse(cfg.Webhook.Reveal())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Query().Get("access_token") == "" {
		return nil, fmt.Errorf("deliver: channel %q (dingtalk): webhook must be the robot's URL, https://oapi.dingtalk.com/robot/send?access_token=…", name)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("deliver: channel %q (dingtalk): webhook must use https (http only for a loopback test server)", name)
	}
	switch cfg.Style {
	case "":
	case "markdown", "actionCard":
	default:
		return nil, fmt.Errorf("deliver: channel %q (dingtalk): style %q: want markdown or actionCard", name, cfg.Style)
	}
	return &dingtalk{
		retrier: o.retrier(name, "dingtalk", cfg.Rate),
		webhook: Secret(u.String()), secret: cfg.Secret, style: cfg.Style,
		client: newHTTPClient(cfg.HTTP),
		pace:   newPacer(o.clock, cfg.Rate),
	}, nil
}

func (c *dingtalk) Name() string { return c.name }
func (c *dingtalk) Kind() string { return c.kind }

// DingTalkSign is the signature DingTalk documents for a custom robot:
// base64(HMAC-SHA256(key = secret, data = timestamp + "\n" + secret)), to
// be URL-encoded as the sign query parameter.
func DingTalkSign(timestampMillis int64, secret string) string {
	ts := strconv.FormatInt(timestampMillis, 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (c *dingtalk) Send(ctx context.Context, msg Message) (Receipt, error) {
	body, notes := c.body(msg)
	b, err := json.Marshal(body)
	if err != nil {
		return Receipt{}, err
	}
	return c.run(ctx, msg, func(ctx context.Context, msg Message) (string, []string, error) {
		if err := c.pace.wait(ctx); err != nil {
			return "", nil, err
		}
		u := c.webhook.Reveal()
		if c.secret != "" {
			// Signed per attempt: DingTalk refuses a timestamp more than an
			// hour away from its clock.
			ts := c.clock.Now().UnixMilli()
			u += "&timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + url.QueryEscape(DingTalkSign(ts, c.secret.Reveal()))
		}
		res, err := post(ctx, c.client, u, "application/json", b, nil)
		if err != nil {
			return "", nil, err
		}
		reply, err := parseRobotReply("DingTalk", res.Body)
		if err != nil {
			return "", nil, err
		}
		if reply.ErrCode != 0 {
			return "", nil, robotError("DingTalk", reply, dingtalkRateCodes, dingtalkHints)
		}
		return msg.Key, notes, nil
	})
}

func (c *dingtalk) body(msg Message) (map[string]any, []string) {
	var notes []string
	if n := len(msg.Images); n > 0 {
		notes = append(notes, fmt.Sprintf("%d image(s) left out: a DingTalk custom robot cannot upload images", n))
	}
	if n := len(msg.Attachments); n > 0 {
		notes = append(notes, fmt.Sprintf("%d file(s) left out: a DingTalk custom robot cannot send files; the link leads to them", n))
	}
	title := oneLine(msg.Subject)
	if title == "" {
		title = "Triscope"
	}
	style := c.style
	if style == "" {
		style = "markdown"
		if msg.Link != "" {
			style = "actionCard"
		}
	}
	if style == "actionCard" && msg.Link != "" {
		card := msg
		card.Link = "" // the button carries it
		return map[string]any{"msgtype": "actionCard", "actionCard": map[string]string{
			"title":          title,
			"text":           summary(card, dingtalkTextMax, ""),
			"btnOrientation": "0",
			"singleTitle":    label(msg.LinkLabel, "Open the report"),
			"singleURL":      msg.Link,
		}}, notes
	}
	at := map[string]any{"isAtAll": false}
	mention := ""
	if id := msg.Recipient.DingTalkUserID; id != "" {
		at["atUserIds"] = []string{id}
		mention = "@" + id
	} else if m := msg.Recipient.Mobile; m != "" {
		at["atMobiles"] = []string{m}
		mention = "@" + m
	}
	return map[string]any{
		"msgtype":  "markdown",
		"markdown": map[string]string{"title": title, "text": summary(msg, dingtalkTextMax, mention)},
		"at":       at,
	}, notes
}
