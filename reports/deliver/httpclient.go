package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HTTPConfig tunes the HTTP client of the robots and webhooks.
type HTTPConfig struct {
	// Timeout bounds one request, response included; 0 means 30s.
	Timeout time.Duration `koanf:"timeout" yaml:"timeout,omitempty"`
}

// maxResponseBytes bounds what is read of a peer's answer.
const maxResponseBytes = 64 << 10

// newHTTPClient returns a client with a timeout that follows a redirect
// only to the same scheme and host (at most 3), so a configured endpoint
// cannot send a report elsewhere.
func newHTTPClient(cfg HTTPConfig) *http.Client {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("stopped after 3 redirects")
			}
			first := via[0].URL
			if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
				return fmt.Errorf("refused a redirect from %s to another host (%s)", first.Host, req.URL.Host)
			}
			return nil
		},
	}
}

// httpResult is a peer's answer, its body bounded.
type httpResult struct {
	Status int
	Body   []byte
}

// post sends body to u and classifies the outcome: 2xx is success; 408,
// 425, 429 and 5xx are transient; any other status is permanent. The
// returned error is an *Error without channel (the retrier fills it in).
func post(ctx context.Context, client *http.Client, u string, contentType string, body []byte, header http.Header) (httpResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return httpResult{}, &Error{Permanent: true, Err: redactURLError(err), Hint: "check the channel's URL"}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Triscope-Reports/1")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		err = redactURLError(err)
		if ctx.Err() != nil {
			return httpResult{}, &Error{Permanent: true, Err: err, Hint: "the run was cancelled or timed out"}
		}
		if strings.Contains(err.Error(), "redirect") {
			return httpResult{}, &Error{Permanent: true, Err: err, Hint: "configure the endpoint's final URL"}
		}
		// Connection refused, reset, DNS, timeouts: worth another try.
		return httpResult{}, &Error{Err: err, Hint: "network error: check that the endpoint is reachable from this server"}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return httpResult{}, &Error{Err: redactURLError(err), Status: resp.StatusCode, Hint: "the response was cut off"}
	}
	res := httpResult{Status: resp.StatusCode, Body: b}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return res, nil
	case s == http.StatusRequestTimeout || s == http.StatusTooEarly || s == http.StatusTooManyRequests || s >= 500:
		return res, &Error{Status: s, Err: fmt.Errorf("HTTP %d: %s", s, snippet(b)), Hint: "the endpoint is busy or failing; will retry"}
	default:
		return res, &Error{Permanent: true, Status: s, Err: fmt.Errorf("HTTP %d: %s", s, snippet(b)), Hint: "the endpoint refused the request: check the channel's URL and credentials"}
	}
}

// redactURLError drops the URL from a *url.Error: robot URLs carry their
// key or token, which must not reach logs or the run history.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		host := ""
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Scheme + "://" + u.Host + u.Path
		}
		return fmt.Errorf("%s %s: %w", ue.Op, host, ue.Err)
	}
	return err
}

// snippet is the start of a response body for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = truncateUTF8(s, 200) + "…"
	}
	return s
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
