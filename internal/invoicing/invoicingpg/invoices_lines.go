package invoicingpg

import (
	"context"
	"fmt"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// linesSQL reads a page of an invoice's lines in one statement (one
// snapshot), in position order after the cursor line $3 (NULL: from the
// first). No row: no such invoice of the tenant. One row without a line: no
// line after the cursor. cursor_ok is false if $3 is not one of the
// invoice's lines.
const linesSQL = `WITH inv AS (
    SELECT id, currency FROM invoices WHERE id = $1 AND tenant_id = $2
), c AS (
    SELECT position FROM invoice_lines WHERE id = $3::uuid AND invoice_id = (SELECT id FROM inv)
)
SELECT inv.currency, $3::uuid IS NULL OR EXISTS (SELECT 1 FROM c) AS cursor_ok,
       l.id, l.description, l.quantity, l.unit_amount, l.tax_rate_bps::bigint
FROM inv LEFT JOIN LATERAL (
    SELECT * FROM invoice_lines
    WHERE invoice_id = inv.id AND ($3::uuid IS NULL OR position > (SELECT position FROM c))
    ORDER BY position LIMIT $4::bigint
) l ON true
ORDER BY l.position`

// Lines implements app.LineList.Lines: up to f.Limit of the invoice's lines
// after the line f.StartingAfter, in the invoice's order. A limit outside
// 1..app.MaxListLimit is clamped (0 means app.DefaultListLimit). It fails
// with invoice.ErrNotFound if the tenant has no such invoice, with
// app.ErrInvalidCursor if f.StartingAfter is not one of its lines, with an
// error wrapping invoice.ErrCorruptInvoice for a stored line that breaks a
// rule, and with database errors wrapped.
func (r *Invoices) Lines(ctx context.Context, tenant kernel.TenantID, id invoice.ID, f app.LineFilter) (_ app.LinePage, err error) {
	defer markUnavailable(&err)
	limit := f.Limit
	if limit == 0 {
		limit = app.DefaultListLimit
	}
	limit = min(max(limit, 1), app.MaxListLimit)
	var after any // a NULL uuid: from the first line
	if f.StartingAfter != nil {
		after = [16]byte(*f.StartingAfter)
	}
	rows, err := r.pool.Query(ctx, linesSQL, [16]byte(id), [16]byte(tenant), after, limit+1) // one more tells whether more follow
	if err != nil {
		return app.LinePage{}, fmt.Errorf("postgres: read lines of invoice %s: %w", id, err)
	}
	defer rows.Close()
	var page app.LinePage
	found, cursorOK := false, false
	for rows.Next() {
		found = true
		var currency string
		var lineID *[16]byte
		var desc *string
		var quantity, unit, rate *int64
		if err := rows.Scan(&currency, &cursorOK, &lineID, &desc, &quantity, &unit, &rate); err != nil {
			return app.LinePage{}, fmt.Errorf("postgres: read lines of invoice %s: %w", id, err)
		}
		if lineID == nil {
			continue // no line after the cursor
		}
		l, err := invoice.RehydrateLine(invoice.LineInputWithID{ID: invoice.LineID(*lineID), LineInput: invoice.LineInput{
			Description: *desc, Quantity: *quantity, UnitAmount: *unit, TaxRateBPS: *rate,
		}}, kernel.Currency(currency))
		if err != nil {
			return app.LinePage{}, fmt.Errorf("postgres: read lines of invoice %s: %w", id, err)
		}
		page.Lines = append(page.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return app.LinePage{}, fmt.Errorf("postgres: read lines of invoice %s: %w", id, err)
	}
	switch {
	case !found:
		return app.LinePage{}, invoice.ErrNotFound
	case !cursorOK:
		return app.LinePage{}, app.ErrInvalidCursor
	case len(page.Lines) > limit:
		page.Lines, page.HasMore = page.Lines[:limit], true
	}
	return page, nil
}
