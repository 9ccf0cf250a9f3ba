package invoice

import "github.com/invoicing-dev/invoicing/internal/failure"

// The domain's errors, each of a failure.Kind. Compare them with errors.Is.
// Their codes are part of the public API: never rename one.
var (
	ErrInvalidAmount      = &failure.Error{Kind: failure.Invalid, Code: "invalid_amount", Message: "amount is out of range"}
	ErrInvalidQuantity    = &failure.Error{Kind: failure.Invalid, Code: "invalid_quantity", Message: "quantity is out of range"}
	ErrInvalidDescription = &failure.Error{Kind: failure.Invalid, Code: "invalid_description", Message: "description is invalid"}
	ErrInvalidDueDate     = &failure.Error{Kind: failure.Invalid, Code: "invalid_due_date", Message: "due date is not a date in range"}
	ErrTooManyLines       = &failure.Error{Kind: failure.Invalid, Code: "too_many_lines", Message: "too many lines"}
	ErrTooManyPayments    = &failure.Error{Kind: failure.Invalid, Code: "too_many_payments", Message: "too many payments"}
	ErrInvalidCustomer    = &failure.Error{Kind: failure.Invalid, Code: "invalid_customer", Message: "customer is invalid"}
	ErrInvalidReference   = &failure.Error{Kind: failure.Invalid, Code: "invalid_reference", Message: "payment reference is invalid"}
	ErrInvalidReason      = &failure.Error{Kind: failure.Invalid, Code: "invalid_reason", Message: "reason is invalid"}
	ErrInvalidID          = &failure.Error{Kind: failure.Invalid, Code: "invalid_id", Message: "id is not a UUID in canonical form"}
	ErrInvalidNumber      = &failure.Error{Kind: failure.Invalid, Code: "invalid_number", Message: "invoice number is invalid"}
	ErrEmptyInvoice       = &failure.Error{Kind: failure.Invalid, Code: "empty_invoice", Message: "an invoice needs a positive total to be issued"}
	ErrOverpayment        = &failure.Error{Kind: failure.Invalid, Code: "overpayment", Message: "payment exceeds the amount due"}
	ErrCreditExceedsTotal = &failure.Error{Kind: failure.Invalid, Code: "credit_exceeds_total", Message: "credit would exceed the invoice's total"}
	ErrInvalidTransition  = &failure.Error{Kind: failure.Conflict, Code: "invalid_transition", Message: "the invoice's status does not allow this"}
	ErrReferenceConflict  = &failure.Error{Kind: failure.Conflict, Code: "payment_reference_conflict", Message: "payment reference already used with a different amount"}
	ErrLineNotFound       = &failure.Error{Kind: failure.NotFound, Code: "line_not_found", Message: "line not found"}
	ErrNotFound           = &failure.Error{Kind: failure.NotFound, Code: "invoice_not_found", Message: "invoice not found"}
	ErrCorruptInvoice     = &failure.Error{Kind: failure.Internal, Code: "corrupt_invoice", Message: "stored invoice breaks an invariant"}
)
