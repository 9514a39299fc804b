package deliver

import (
	"encoding/json"
	"fmt"
	"strings"
)

// robotReply is the answer of both WeCom's and DingTalk's robot APIs.
type robotReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	// WeCom's upload_media
	Type    string `json:"type,omitempty"`
	MediaID string `json:"media_id,omitempty"`
}

// robotError classifies a robot's non-zero errcode: rate limits and
// "system busy" are transient (Status statusRateLimited for the former, so
// the retry waits a whole window), everything else is permanent.
func robotError(kind string, reply robotReply, rateCodes map[int]bool, hints map[int]string) *Error {
	err := fmt.Errorf("%s robot answered errcode %d: %s", kind, reply.ErrCode, snippet([]byte(reply.ErrMsg)))
	switch {
	case rateCodes[reply.ErrCode]:
		return &Error{Status: statusRateLimited, Err: err, Hint: "the robot's rate limit was hit; waiting a full window before the next try"}
	case reply.ErrCode == -1:
		return &Error{Status: reply.ErrCode, Err: err, Hint: "the robot service is busy; will retry"}
	}
	hint := hints[reply.ErrCode]
	if hint == "" {
		hint = "the robot refused the message: check the robot's webhook in the channel configuration"
	}
	return &Error{Permanent: true, Status: reply.ErrCode, Err: err, Hint: hint}
}

// parseRobotReply reads a robot's JSON answer; an unreadable answer is
// transient (a proxy's error page, a cut-off body).
func parseRobotReply(kind string, body []byte) (robotReply, error) {
	var r robotReply
	if err := json.Unmarshal(body, &r); err != nil {
		return r, &Error{Err: fmt.Errorf("%s robot answered something that is not its JSON: %s", kind, snippet(body)), Hint: "check that the webhook URL points at the robot API"}
	}
	return r, nil
}

// summary is the markdown of a robot message: title, the caller's
// markdown (or text), the link back and the unsubscribe link, cut to max
// bytes without splitting a character.
func summary(msg Message, max int, extra string) string {
	var b strings.Builder
	if msg.Subject != "" {
		b.WriteString("### " + oneLine(msg.Subject) + "\n\n")
	}
	body := msg.Markdown
	if body == "" {
		body = msg.Text
	}
	var tail strings.Builder
	if msg.Link != "" {
		tail.WriteString("\n\n[" + label(msg.LinkLabel, "Open the report") + "](" + msg.Link + ")")
	}
	if msg.UnsubscribeURL != "" {
		tail.WriteString("\n\n[" + label(msg.UnsubscribeLabel, "Unsubscribe") + "](" + msg.UnsubscribeURL + ")")
	}
	if extra != "" {
		tail.WriteString("\n\n" + extra)
	}
	room := max - b.Len() - tail.Len()
	if room < 0 {
		room = 0
	}
	if len(body) > room {
		body = truncateUTF8(body, max0(room-len("…"))) + "…"
	}
	b.WriteString(body)
	b.WriteString(tail.String())
	return truncateUTF8(b.String(), max)
}

func label(s, def string) string {
	if s == "" {
		return def
	}
	return strings.NewReplacer("[", "(", "]", ")").Replace(oneLine(s))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}
