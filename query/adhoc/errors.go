package adhoc

import (
	"errors"
	"fmt"
)

// Class says why a query did not return a result. The front ends map it to
// their own codes (the HTTP API: refused 400, syntax 400, busy 429, timeout
// 408 or 504, too many rows is not an error but Result.Truncated).
type Class string

const (
	Refused  Class = "refused"  // the guard said no: not a single read-only query over the catalog
	Syntax   Class = "syntax"   // DuckDB could not parse or bind it (unknown column, wrong types…)
	Data     Class = "data"     // it failed while running on the data (a cast, a division…)
	Timeout  Class = "timeout"  // it ran past its time limit and was interrupted
	TooMany  Class = "too_many" // the result is larger than the sandbox sends (bytes, not rows)
	Memory   Class = "memory"   // it needed more memory than a worker may use
	Busy     Class = "busy"     // too many queries running (for the user or overall): try again
	Internal Class = "internal" // the sandbox failed; nothing about the query
)

// Error is the error of a refused or failed query. Message is safe to show
// to the user who sent the query (it never holds a data value); Raw is
// DuckDB's own text, for admins only (it may echo values, e.g. a failed
// cast prints the value that failed).
type Error struct {
	Class    Class
	Message  string
	Position int    // byte offset in the user's SQL; -1 when unknown
	Raw      string // DuckDB's text (admins only); "" for refusals
}

func (e *Error) Error() string {
	if e.Position >= 0 {
		return fmt.Sprintf("%s: %s (at character %d)", e.Class, e.Message, e.Position+1)
	}
	return fmt.Sprintf("%s: %s", e.Class, e.Message)
}

// For returns the error as the given user may see it: admins get DuckDB's
// raw text, everyone else the generic message of its class.
func (e *Error) For(admin bool) string {
	if admin && e.Raw != "" {
		return string(e.Class) + ": " + e.Raw
	}
	return e.Error()
}

// ClassOf is the class of err (Internal for errors that are not *Error).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Internal
}

func refused(pos int, format string, args ...any) *Error {
	return &Error{Class: Refused, Message: fmt.Sprintf(format, args...), Position: pos}
}

// genericMessage is what a non-admin reads for a failure of each class:
// DuckDB's text can hold values of rows the user may not see.
var genericMessage = map[Class]string{
	Refused:  "the query used something ad hoc SQL may not (files, settings, extensions or the catalog)",
	Syntax:   "the query could not be compiled (check names, types and syntax near the position shown)",
	Data:     "the query failed on a value in the data (a conversion, a division, an invalid argument)",
	Timeout:  "the query ran past its time limit and was stopped",
	TooMany:  "the result is too large to send; select fewer columns or rows",
	Memory:   "the query needed more memory than an ad hoc query may use",
	Busy:     "too many queries are running; try again in a moment",
	Internal: "the query sandbox failed; the error was logged",
}

// ErrBusy is returned (wrapped in *Error with Class Busy) when the user or the
// sandbox is at its limit of concurrent queries.
var ErrBusy = &Error{Class: Busy, Message: genericMessage[Busy], Position: -1}
