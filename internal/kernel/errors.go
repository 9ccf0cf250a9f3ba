package kernel

import "github.com/invoicing-dev/invoicing/internal/failure"

// Money's errors, each of a failure.Kind. Compare them with errors.Is. Their
// codes are part of the public API: never rename one.
var (
	ErrInvalidCurrency  = &failure.Error{Kind: failure.Invalid, Code: "invalid_currency", Message: "currency is not an ISO 4217 code"}
	ErrCurrencyMismatch = &failure.Error{Kind: failure.Invalid, Code: "currency_mismatch", Message: "amounts are in different currencies"}
	ErrAmountOverflow   = &failure.Error{Kind: failure.Invalid, Code: "amount_overflow", Message: "amount is too large"}
	ErrInvalidTaxRate   = &failure.Error{Kind: failure.Invalid, Code: "invalid_tax_rate", Message: "tax rate is out of range"}
)
