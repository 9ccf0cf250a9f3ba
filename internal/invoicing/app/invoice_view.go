package app

import (
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// InvoiceView is an invoice as a query shows it: its state, totals and
// payments, and its first lines. A list reads it without loading the whole
// aggregate, so that a page of invoices stays small whatever their lines:
// Lines holds at most ListedLines of LineCount lines there, and every line
// for one invoice read alone (ViewOf).
type InvoiceView struct {
	ID         invoice.ID
	Number     string // empty for a draft
	Status     invoice.Status
	Currency   kernel.Currency
	Customer   invoice.Customer
	DueDate    time.Time // zero: none
	Lines      []invoice.Line
	LineCount  int // how many lines the invoice has, len(Lines) or more
	Totals     invoice.Totals
	Payments   []invoice.Payment
	IssuedAt   time.Time
	PaidAt     time.Time
	VoidedAt   time.Time
	VoidReason string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time

	Metadata              invoice.Metadata // nil: none
	MarkedUncollectibleAt time.Time        // zero: never written off
	OverdueAt             time.Time        // zero: never recorded overdue
	Overdue               bool             // recorded overdue and still open or uncollectible
}

// ViewOf returns the view of inv with all its lines.
func ViewOf(inv *invoice.Invoice) InvoiceView {
	return InvoiceView{
		ID: inv.ID(), Number: inv.Number(), Status: inv.Status(), Currency: inv.Currency(),
		Customer: inv.Customer(), DueDate: inv.DueDate(), Lines: inv.Lines(), LineCount: inv.LineCount(),
		Totals: inv.Totals(), Payments: inv.Payments(),
		IssuedAt: inv.IssuedAt(), PaidAt: inv.PaidAt(), VoidedAt: inv.VoidedAt(), VoidReason: inv.VoidReason(),
		Version: inv.Version(), CreatedAt: inv.CreatedAt(), UpdatedAt: inv.UpdatedAt(),
		Metadata: inv.Metadata(), MarkedUncollectibleAt: inv.MarkedUncollectibleAt(), OverdueAt: inv.OverdueAt(),
		Overdue: inv.Overdue(),
	}
}
