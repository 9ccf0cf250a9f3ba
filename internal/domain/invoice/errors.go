package invoice

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it. The HTTP layer
// maps each kind to one status code; nothing else decides a status.
type Kind uint8

// The error kinds. The zero Kind means "internal": anything not explicitly
// classified is treated as a fault of the service, never of the caller.
const (
	KindInternal     Kind = iota // a fault of the service; details are logged, not shown
	KindInvalid                  // well-formed input that breaks a rule
	KindNotFound                 // the thing does not exist (or belongs to another tenant)
	KindConflict                 // the current state forbids the request; retrying as-is will not help
	KindUnauthorized             // missing or unknown credentials
	KindPrecondition             // a precondition of the request (e.g. If-Match) does not hold
	KindUnavailable              // the service cannot serve now (e.g. its database is down); retry later
)

// String returns the kind's name, used in logs.
func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindUnauthorized:
		return "unauthorized"
	case KindPrecondition:
		return "precondition"
	case KindUnavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// Error is a domain error: a kind, a stable machine-readable code (it becomes the
// problem type of an HTTP response), the field at fault if any, and a message
// safe to show to the caller.
//
// Compare errors with errors.Is against the sentinel values below: two *Error
// values match when their codes are equal, whatever their field or message.
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

// with returns a copy of the sentinel e carrying field and a formatted message.
func (e *Error) with(field, format string, args ...any) *Error {
	return &Error{Kind: e.Kind, Code: e.Code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's tree, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Sentinel errors. Their codes are part of the public API: never rename one.
var (
	ErrInvalidCurrency    = &Error{Kind: KindInvalid, Code: "invalid_currency", Message: "currency is not an ISO 4217 code"}
	ErrCurrencyMismatch   = &Error{Kind: KindInvalid, Code: "currency_mismatch", Message: "amounts are in different currencies"}
	ErrAmountOverflow     = &Error{Kind: KindInvalid, Code: "amount_overflow", Message: "amount is too large"}
	ErrInvalidAmount      = &Error{Kind: KindInvalid, Code: "invalid_amount", Message: "amount is out of range"}
	ErrInvalidQuantity    = &Error{Kind: KindInvalid, Code: "invalid_quantity", Message: "quantity is out of range"}
	ErrInvalidDescription = &Error{Kind: KindInvalid, Code: "invalid_description", Message: "description is invalid"}
	ErrInvalidTaxRate     = &Error{Kind: KindInvalid, Code: "invalid_tax_rate", Message: "tax rate is out of range"}
	ErrInvalidDueDate     = &Error{Kind: KindInvalid, Code: "invalid_due_date", Message: "due date is not a date in range"}
	ErrTooManyLines       = &Error{Kind: KindInvalid, Code: "too_many_lines", Message: "too many lines"}
	ErrTooManyPayments    = &Error{Kind: KindInvalid, Code: "too_many_payments", Message: "too many payments"}
	ErrInvalidCustomer    = &Error{Kind: KindInvalid, Code: "invalid_customer", Message: "customer is invalid"}
	ErrInvalidReference   = &Error{Kind: KindInvalid, Code: "invalid_reference", Message: "payment reference is invalid"}
	ErrInvalidReason      = &Error{Kind: KindInvalid, Code: "invalid_reason", Message: "reason is invalid"}
	ErrInvalidNumber      = &Error{Kind: KindInvalid, Code: "invalid_number", Message: "invoice number is invalid"}
	ErrEmptyInvoice       = &Error{Kind: KindInvalid, Code: "empty_invoice", Message: "an invoice needs a positive total to be issued"}
	ErrOverpayment        = &Error{Kind: KindInvalid, Code: "overpayment", Message: "payment exceeds the amount due"}
	ErrInvalidTransition  = &Error{Kind: KindConflict, Code: "invalid_transition", Message: "the invoice's status does not allow this"}
	ErrReferenceConflict  = &Error{Kind: KindConflict, Code: "payment_reference_conflict", Message: "payment reference already used with a different amount"}
	ErrLineNotFound       = &Error{Kind: KindNotFound, Code: "line_not_found", Message: "line not found"}
	ErrNotFound           = &Error{Kind: KindNotFound, Code: "invoice_not_found", Message: "invoice not found"}
	ErrConcurrentUpdate   = &Error{Kind: KindConflict, Code: "concurrent_update", Message: "the invoice was changed concurrently; retry"}
	ErrVersionMismatch    = &Error{Kind: KindPrecondition, Code: "version_mismatch", Message: "the invoice's version does not match If-Match"}
	ErrCorruptInvoice     = &Error{Kind: KindInternal, Code: "corrupt_invoice", Message: "stored invoice breaks an invariant"}
)
