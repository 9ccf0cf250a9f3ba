package app

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// ListLines reads a page of one invoice's lines, in the invoice's order: all
// of them, where a list of invoices shows only the first ListedLines.
type ListLines struct {
	Tenant        kernel.TenantID
	InvoiceID     invoice.ID
	StartingAfter *invoice.LineID // the last line of the previous page; nil for the first page
	Limit         int             // 0: DefaultListLimit
}

// ListLinesHandler handles ListLines.
type ListLinesHandler struct {
	lines LineList
}

// Handle returns up to Limit lines and whether more follow. It fails with
// invoice.ErrNotFound, with ErrInvalidLimit for a limit outside
// 1..MaxListLimit and with ErrInvalidCursor (field starting_after) if
// StartingAfter is not one of the invoice's lines (a line removed from a
// draft since is no longer one).
func (h ListLinesHandler) Handle(ctx context.Context, q ListLines) (LinePage, error) {
	limit, err := listLimit(q.Limit)
	if err != nil {
		return LinePage{}, err
	}
	page, err := h.lines.Lines(ctx, q.Tenant, q.InvoiceID, LineFilter{StartingAfter: q.StartingAfter, Limit: limit})
	if errors.Is(err, ErrInvalidCursor) {
		return LinePage{}, ErrInvalidCursor.At("starting_after")
	}
	return page, err
}
