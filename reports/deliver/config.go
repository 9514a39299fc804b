package deliver

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Config is the administrator's list of delivery channels, keyed by name
// (the key under delivery.channels in triscope.yaml; TRISCOPE_* variables
// can supply the secrets, e.g. the password of channel mail).
//
//	channels:
//	  mail:
//	    kind: smtp
//	    smtp: {host: smtp.example.com, username: reports, password: …, from: "Triscope <reports@example.com>"}
//	  east-wecom:
//	    kind: wecom
//	    wecom: {webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}
type Config struct {
	Channels map[string]ChannelConfig `koanf:"channels" yaml:"channels"`
}

// ChannelConfig is one channel: its kind and that kind's section.
type ChannelConfig struct {
	// Kind is smtp, wecom, dingtalk, webhook or folder.
	Kind     string          `koanf:"kind" yaml:"kind"`
	SMTP     *SMTPConfig     `koanf:"smtp" yaml:"smtp,omitempty"`
	WeCom    *WeComConfig    `koanf:"wecom" yaml:"wecom,omitempty"`
	DingTalk *DingTalkConfig `koanf:"dingtalk" yaml:"dingtalk,omitempty"`
	Webhook  *WebhookConfig  `koanf:"webhook" yaml:"webhook,omitempty"`
	Folder   *FolderConfig   `koanf:"folder" yaml:"folder,omitempty"`
	// Retry bounds the retries of a send (defaults: 5 attempts, 2s doubling to 1m).
	Retry RetryConfig `koanf:"retry" yaml:"retry,omitempty"`
}

var channelName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Registry holds the configured channels by name.
type Registry struct {
	channels map[string]Channel
}

// NewRegistry builds every configured channel. All problems are reported
// together, each naming its channel and what to fix; secrets are never in
// the message.
func NewRegistry(cfg Config, opts ...Option) (*Registry, error) {
	r := &Registry{channels: map[string]Channel{}}
	var errs []error
	names := make([]string, 0, len(cfg.Channels))
	for name := range cfg.Channels {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cc := cfg.Channels[name]
		if !channelName.MatchString(name) {
			errs = append(errs, fmt.Errorf("deliver: channel name %q: use lowercase letters, digits, '-' and '_'", name))
			continue
		}
		ch, err := build(name, cc, append(slices.Clone(opts), WithRetry(cc.Retry))...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.channels[name] = ch
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func build(name string, cc ChannelConfig, opts ...Option) (Channel, error) {
	sections := map[string]bool{"smtp": cc.SMTP != nil, "wecom": cc.WeCom != nil, "dingtalk": cc.DingTalk != nil, "webhook": cc.Webhook != nil, "folder": cc.Folder != nil}
	var present []string
	for k, ok := range sections {
		if ok {
			present = append(present, k)
		}
	}
	sort.Strings(present)
	if _, known := sections[cc.Kind]; !known {
		return nil, fmt.Errorf("deliver: channel %q: kind %q: want smtp, wecom, dingtalk, webhook or folder", name, cc.Kind)
	}
	if len(present) != 1 || present[0] != cc.Kind {
		return nil, fmt.Errorf("deliver: channel %q: kind %s needs exactly one section %q, found [%s]", name, cc.Kind, cc.Kind, strings.Join(present, ", "))
	}
	switch cc.Kind {
	case "smtp":
		return NewSMTP(name, *cc.SMTP, opts...)
	case "wecom":
		return NewWeCom(name, *cc.WeCom, opts...)
	case "dingtalk":
		return NewDingTalk(name, *cc.DingTalk, opts...)
	case "webhook":
		return NewWebhook(name, *cc.Webhook, opts...)
	default:
		return NewFolder(name, *cc.Folder, opts...)
	}
}

// Get returns the channel called name.
func (r *Registry) Get(name string) (Channel, error) {
	ch, ok := r.channels[name]
	if !ok {
		return nil, fmt.Errorf("deliver: no channel %q is configured (configured: %s); an administrator adds channels under delivery.channels", name, strings.Join(r.Names(), ", "))
	}
	return ch, nil
}

// Names lists the configured channels, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.channels))
	for n := range r.channels {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Send delivers msg through the channel called name.
func (r *Registry) Send(ctx context.Context, name string, msg Message) (Receipt, error) {
	ch, err := r.Get(name)
	if err != nil {
		return Receipt{}, err
	}
	return ch.Send(ctx, msg)
}
