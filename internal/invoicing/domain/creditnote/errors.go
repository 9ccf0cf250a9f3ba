package creditnote

import "github.com/invoicing-dev/invoicing/internal/failure"

// The credit note's own errors, each of a failure.Kind; it also returns the
// kernel's (currency, overflow) and the invoice package's where the rule is
// the same (amounts, descriptions).
// Compare them with errors.Is. Their codes are part of the public API.
var (
	ErrLinesOrAmount = &failure.Error{Kind: failure.Invalid, Code: "lines_or_amount", Field: "lines",
		Message: "a credit note has either lines or an amount, not both"}
	ErrInvalidReason = &failure.Error{Kind: failure.Invalid, Code: "invalid_credit_reason", Field: "reason",
		Message: "reason must be one of duplicate, fraudulent, order_change, product_unsatisfactory"}
	ErrInvalidMemo = &failure.Error{Kind: failure.Invalid, Code: "invalid_memo", Field: "memo",
		Message: "memo is at most 500 characters, without control characters"}
	ErrAllocation = &failure.Error{Kind: failure.Internal, Code: "credit_allocation",
		Message: "the invoice's allocation does not add up to the credit note's amount"}
	ErrNotFound = &failure.Error{Kind: failure.NotFound, Code: "credit_note_not_found", Message: "credit note not found"}
	ErrCorrupt  = &failure.Error{Kind: failure.Internal, Code: "corrupt_credit_note", Message: "stored credit note breaks an invariant"}
)
