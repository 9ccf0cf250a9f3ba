package app

import (
	"errors"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// Bounds of a page of a list.
const (
	DefaultListLimit = 20
	MaxListLimit     = 100
)

// Errors of the list use cases, in the API's error kinds (the same codes
// as the invoicing context's lists).
var (
	// ErrInvalidLimit: a page size outside 1..MaxListLimit.
	ErrInvalidLimit = &failure.Error{Kind: failure.Invalid, Code: "invalid_limit", Field: "limit", Message: "limit must be between 1 and 100"}
	// ErrInvalidCursor: starting_after is not an item of the list.
	ErrInvalidCursor = &failure.Error{Kind: failure.Invalid, Code: "invalid_cursor", Field: "starting_after", Message: "the cursor does not name a position of this list"}
)

// ErrDeliveryNotFound means the endpoint exists but has no such delivery:
// the caller is told which of the two is missing.
var ErrDeliveryNotFound = errors.New("webhook: no delivery with this id at this endpoint")

// checkPage returns ErrInvalidLimit unless p.Limit is within 1..MaxListLimit.
func checkPage(p webhook.Page) error {
	if p.Limit < 1 || p.Limit > MaxListLimit {
		return ErrInvalidLimit
	}
	return nil
}
