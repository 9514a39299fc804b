package adhoc

import (
	"fmt"
	"time"
)

// Limits are what one role may do with ad hoc SQL (the `sql.roles`
// settings): whether it may at all, a query's time limit and row cap.
type Limits struct {
	Enabled bool
	Timeout time.Duration // 0: the sandbox's default
	MaxRows int           // 0: the sandbox's default
}

// Policy gives the limits of a role. Every front end asks it before a
// query runs.
type Policy func(role string) Limits

// ErrDisabled is the refusal of a role whose ad hoc SQL is turned off.
func ErrDisabled(role string) *Error {
	return &Error{Class: Refused, Message: fmt.Sprintf("ad hoc SQL is turned off for the role %s (setting sql.roles.%s.enabled)", role, role), Position: -1}
}

// Apply fills a request's time limit and row cap from the limits: a request
// may lower them, not raise them.
func (l Limits) Apply(req *Request) {
	if l.Timeout > 0 && (req.Timeout <= 0 || req.Timeout > l.Timeout) {
		req.Timeout = l.Timeout
	}
	if l.MaxRows > 0 && (req.MaxRows <= 0 || req.MaxRows > l.MaxRows) {
		req.MaxRows = l.MaxRows
	}
}
