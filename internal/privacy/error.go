package privacy

import (
	"errors"
	"fmt"
)

// Code classifies an Error. The HTTP adapter maps each code to one status, in one table.
type Code string

// Error codes, a deliberately small set.
const (
	Invalid      Code = "invalid"      // the input is wrong; Field says where
	NotFound     Code = "not_found"    // no such thing (or the caller may not know it exists)
	Conflict     Code = "conflict"     // the state does not allow this now
	Unauthorized Code = "unauthorized" // not signed in, or wrong credentials
	Forbidden    Code = "forbidden"    // credentials right, but the account may not do this yet
	RateLimited  Code = "rate_limited" // too many attempts; RetryAfter says when to come back
	TooLarge     Code = "too_large"    // the request body is over the limit
	Unsupported  Code = "unsupported"  // the request body is not in a media type the API reads
	NotAllowed   Code = "not_allowed"  // the method is not allowed on this resource
	Internal     Code = "internal"     // our fault; details go to the log, never to the user
)

// Error is the portal's application error.
type Error struct {
	Code Code
	// Field names the input field at fault, as the user sent it (JSON name), if any.
	Field string
	// Message is safe to show the user. It never contains personal data.
	Message string
	// Type, when set, is a URI reference that names this kind of problem for programs (the
	// problem document's "type"); "about:blank" otherwise.
	Type string
	// RetryAfterSeconds is set with RateLimited.
	RetryAfterSeconds int
	// Err is the underlying cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Field != "" {
		s += " " + e.Field
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with a formatted, user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an Invalid error about one input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, Internal for errors that are not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return Internal
}
