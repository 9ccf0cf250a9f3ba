package creditnote

import (
	"fmt"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Snapshot is a credit note's stored state, as the repository reads it.
type Snapshot struct {
	ID                ID
	Tenant            kernel.TenantID
	InvoiceID         invoice.ID
	InvoiceNumber     string
	Number            string
	Currency          kernel.Currency
	Lines             []LineInput
	Amount            int64
	PrePaymentAmount  int64
	PostPaymentAmount int64
	Reason            Reason
	Memo              string
	IssuedAt          time.Time
	Version           int64
}

// Rehydrate rebuilds a credit note from storage, for repositories only. It
// checks what Issue guarantees (a known reason and currency, positive lines
// adding up to the amount, an allocation adding up to it) and records no
// event. It fails with an error wrapping ErrCorrupt saying what broke.
func Rehydrate(s Snapshot) (*CreditNote, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: credit note %s: %s", ErrCorrupt, s.ID, fmt.Sprintf(format, args...))
	}
	var amount *int64
	if len(s.Lines) == 0 {
		amount = &s.Amount
	}
	req, err := NewRequest(s.Currency, s.Lines, amount, string(s.Reason), s.Memo)
	if err != nil {
		return nil, corrupt("%v", err)
	}
	if req.amount.Amount() != s.Amount || s.PrePaymentAmount < 0 || s.PostPaymentAmount < 0 ||
		s.PrePaymentAmount > s.Amount || s.PostPaymentAmount > s.Amount || s.PrePaymentAmount+s.PostPaymentAmount != s.Amount {
		return nil, corrupt("amount %d, lines adding up to %d, allocated %d + %d", s.Amount, req.amount.Amount(), s.PrePaymentAmount, s.PostPaymentAmount)
	}
	if s.Version != 1 || !kernel.ValidText(s.Number, maxNumber) || s.InvoiceNumber == "" {
		return nil, corrupt("version %d, number %q, invoice number %q", s.Version, s.Number, s.InvoiceNumber)
	}
	pre, _ := kernel.NewMoney(s.PrePaymentAmount, s.Currency)
	post, _ := kernel.NewMoney(s.PostPaymentAmount, s.Currency)
	return &CreditNote{
		id: s.ID, tenant: s.Tenant, invoiceID: s.InvoiceID, invoiceNumber: s.InvoiceNumber, number: s.Number,
		currency: s.Currency, lines: req.lines, amount: req.amount,
		alloc:  invoice.CreditAllocation{PrePayment: pre, PostPayment: post},
		reason: req.reason, memo: req.memo, issuedAt: s.IssuedAt, version: s.Version,
	}, nil
}
