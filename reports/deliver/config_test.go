package deliver

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// exampleYAML is the configuration shape documented for administrators
// (delivery: in triscope.yaml).
const exampleYAML = `
delivery:
  channels:
    mail:
      kind: smtp
      smtp:
        host: smtp.example.com
        port: 587
        security: starttls        # starttls | tls | none (loopback relay only)
        username: reports@example.com
        password: "smtp-pa55word"  # or TRISCOPE_DELIVERY__CHANNELS__MAIL__SMTP__PASSWORD
        from: "Triscope 报表 <reports@example.com>"
        reply_to: "Sales Ops <salesops@example.com>"
        timeout: 45s
      retry: {attempts: 6, initial: 5s, max: 2m}
    east-wecom:
      kind: wecom
      wecom:
        webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-secret-key"
        rate: {messages: 20, per: 1m}
    hq-dingtalk:
      kind: dingtalk
      dingtalk:
        webhook: "https://oapi.dingtalk.com/robot/send?access_token=ding-secret-token"
        secret: "SECding-signing-secret"
        style: actionCard
    bi-feed:
      kind: webhook
      webhook:
        url: https://bi.example.com/hooks/triscope
        secret: "webhook-signing-secret"
        max_body_bytes: 20971520
    archive:
      kind: folder
      folder:
        root: /var/lib/triscope/archive
        timezone: Asia/Shanghai
`

var exampleSecrets = []string{"smtp-pa55word", "wecom-secret-key", "ding-secret-token", "SECding-signing-secret", "webhook-signing-secret"}

func TestConfigFromYAML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "triscope.yaml")
	if err := os.WriteFile(path, []byte(exampleYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	k := koanf.New(".")
	if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := k.Unmarshal("delivery", &cfg); err != nil {
		t.Fatal(err)
	}
	mail := cfg.Channels["mail"]
	if mail.SMTP == nil || mail.SMTP.Timeout != 45*time.Second || mail.Retry.Max != 2*time.Minute || mail.SMTP.Password.Reveal() != "smtp-pa55word" {
		t.Fatalf("mail %+v", mail)
	}
	if cfg.Channels["east-wecom"].WeCom.Rate.Per != time.Minute {
		t.Errorf("wecom rate %+v", cfg.Channels["east-wecom"].WeCom.Rate)
	}
	reg, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(reg.Names(), " "); got != "archive bi-feed east-wecom hq-dingtalk mail" {
		t.Errorf("names %q", got)
	}
	for _, n := range reg.Names() {
		ch, _ := reg.Get(n)
		if ch.Name() != n || ch.Kind() != cfg.Channels[n].Kind {
			t.Errorf("%s: %s %s", n, ch.Name(), ch.Kind())
		}
	}
	if _, err := reg.Get("nope"); err == nil || !strings.Contains(err.Error(), "bi-feed") {
		t.Errorf("unknown channel: %v", err)
	}

	// Secrets never show in a dump of the configuration, with %v, %+v,
	// %#v, JSON or a built channel.
	j, _ := json.Marshal(cfg)
	dumps := []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", *mail.SMTP), string(j)}
	for _, n := range reg.Names() {
		ch, _ := reg.Get(n)
		dumps = append(dumps, fmt.Sprintf("%+v", ch))
	}
	for _, d := range dumps {
		for _, s := range exampleSecrets {
			if strings.Contains(d, s) {
				t.Errorf("secret %q in %s", s, d)
			}
		}
	}
	if !strings.Contains(string(j), `"Password":"[redacted]"`) {
		t.Errorf("json %s", j)
	}
}

func TestConfigErrors(t *testing.T) {
	cfg := Config{Channels: map[string]ChannelConfig{
		"Bad Name": {Kind: "folder", Folder: &FolderConfig{Root: "/tmp/x"}},
		"two":      {Kind: "wecom", WeCom: &WeComConfig{Webhook: "https://x/cgi-bin/webhook/send?key=k"}, Folder: &FolderConfig{Root: "/x"}},
		"relay":    {Kind: "smtp", SMTP: &SMTPConfig{Host: "mail.example.com", Security: "none", From: "a@example.com", Password: "hunter2"}},
		"hook":     {Kind: "webhook", Webhook: &WebhookConfig{URL: "http://bi.example.com/x", Secret: "s"}},
		"kindless": {Folder: &FolderConfig{Root: "/x"}},
		"relative": {Kind: "folder", Folder: &FolderConfig{Root: "archive"}},
		"robot":    {Kind: "dingtalk", DingTalk: &DingTalkConfig{Webhook: "https://oapi.dingtalk.com/robot/send"}},
	}}
	_, err := NewRegistry(cfg)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{`"Bad Name"`, `channel "two"`, `channel "relay" (smtp): security none`, `channel "hook" (webhook): url must use https`, `channel "kindless": kind ""`, `channel "relative" (folder): root must be an absolute path`, `channel "robot" (dingtalk): webhook must be`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Error("password in the error")
	}
}
