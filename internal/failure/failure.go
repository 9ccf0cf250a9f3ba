// Package failure holds the one error type of the service: a small set of
// kinds saying what the caller can do about an error, and a stable code per
// error. Every layer classifies its errors with it; only the HTTP layer turns
// a kind into a status, in one table. It depends on nothing but the standard
// library, so the domain may use it without learning anything about HTTP.
package failure

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind uint8

// The kinds. The zero Kind means "internal": anything not explicitly
// classified is a fault of the service, never of the caller.
const (
	Internal     Kind = iota // a fault of the service; details are logged, not shown
	Invalid                  // well-formed input that breaks a rule
	NotFound                 // the thing does not exist (or belongs to another tenant)
	Conflict                 // the current state forbids the request; retrying as-is will not help
	Unauthorized             // missing or unknown credentials
	Precondition             // a condition the caller set on the request (e.g. the version it expects) does not hold
	Unavailable              // the service cannot serve now (e.g. its database is down); retry later
)

// String returns the kind's name, used in logs.
func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case Unauthorized:
		return "unauthorized"
	case Precondition:
		return "precondition"
	case Unavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// Error is an error the service classifies: a kind, a stable machine-readable
// code (it becomes the problem type of an HTTP response), the field at fault
// if any, and a message safe to show to the caller.
//
// Packages declare their errors as sentinel *Error values and compare them
// with errors.Is: two *Error values match when their codes are equal,
// whatever their field or message.
type Error struct {
	Kind    Kind
	Code    string
	Field   string
	Message string
}

// Error returns the field (if any) and the message.
func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// At returns a copy of e whose field is prefixed with path, e.g. "lines[2]" turns
// "quantity" into "lines[2].quantity".
func (e *Error) At(path string) *Error {
	c := *e
	if c.Field == "" {
		c.Field = path
	} else {
		c.Field = path + "." + c.Field
	}
	return &c
}

// With returns a copy of the sentinel e carrying field and a formatted message.
func (e *Error) With(field, format string, args ...any) *Error {
	return &Error{Kind: e.Kind, Code: e.Code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's tree, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
