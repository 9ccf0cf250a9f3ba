package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// IssueInvoice issues a draft invoice, giving it the tenant's next number.
type IssueInvoice struct {
	Tenant      kernel.TenantID
	InvoiceID   invoice.ID
	IfMatch     Condition          // the versions the change may apply to (If-Match)
	Idempotency *IdempotentRequest // nil: not idempotent; see IdempotentRequest
}

// IssueInvoiceHandler handles IssueInvoice.
type IssueInvoiceHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle issues the invoice and returns it as committed. The number is taken inside the
// update's transaction, so a failed or conflicting issue gives it back and
// numbers stay gapless. It fails with ErrVersionMismatch if
// cmd.IfMatch does not allow the invoice's version, and otherwise with the
// errors of Invoices.Update, Tx.NextInvoiceNumber and the aggregate.
func (h IssueInvoiceHandler) Handle(ctx context.Context, cmd IssueInvoice) (Changed, error) {
	opts := ChangeOptions{Idempotency: cmd.Idempotency, Numbers: InvoiceNumbers}
	return h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, opts, func(ctx context.Context, inv *invoice.Invoice, tx Tx) (Result, error) {
		if err := cmd.IfMatch.check(inv); err != nil {
			return Result{}, err
		}
		// Check before taking a number: a doomed issue should not serialize
		// behind the tenant's counter lock.
		if err := inv.CanIssue(); err != nil {
			return Result{}, err
		}
		now := h.clock.Now()
		n, err := tx.NextInvoiceNumber(ctx, cmd.Tenant, now.Year())
		if err != nil {
			return Result{}, err
		}
		if err := inv.Issue(invoice.FormatNumber(now.Year(), n), now); err != nil {
			return Result{}, err
		}
		return invoiceResult(cmd.Idempotency, inv)
	})
}
