package app

import (
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// CreditNoteView is a credit note as a query or a change shows it.
type CreditNoteView struct {
	ID            creditnote.ID
	Number        string
	InvoiceID     invoice.ID
	InvoiceNumber string
	Currency      kernel.Currency
	Lines         []creditnote.Line // none for a credit of an amount alone
	Amount        kernel.Money
	Allocation    invoice.CreditAllocation // how Amount fell on the invoice
	Reason        creditnote.Reason
	Memo          string // "": none
	IssuedAt      time.Time
}

// CreditNoteViewOf returns the view of cn.
func CreditNoteViewOf(cn *creditnote.CreditNote) CreditNoteView {
	return CreditNoteView{
		ID: cn.ID(), Number: cn.Number(), InvoiceID: cn.InvoiceID(), InvoiceNumber: cn.InvoiceNumber(),
		Currency: cn.Currency(), Lines: cn.Lines(), Amount: cn.Amount(), Allocation: cn.Allocation(),
		Reason: cn.Reason(), Memo: cn.Memo(), IssuedAt: cn.IssuedAt(),
	}
}
