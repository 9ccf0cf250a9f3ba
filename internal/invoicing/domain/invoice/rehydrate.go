package invoice

import (
	"fmt"
	"time"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Snapshot is an invoice's stored state, as the repository reads it.
// Line amounts and taxes are derived again on rehydration, so Line.Amount and
// Line.Tax are ignored here.
type Snapshot struct {
	ID         ID
	Tenant     kernel.TenantID
	Number     string
	Status     Status
	Currency   kernel.Currency
	Customer   Customer
	DueDate    time.Time
	Lines      []LineInputWithID
	Payments   []Payment
	IssuedAt   time.Time
	PaidAt     time.Time
	VoidedAt   time.Time
	VoidReason string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time

	Metadata              Metadata
	MarkedUncollectibleAt time.Time
	OverdueAt             time.Time

	// PrePaymentCredit and PostPaymentCredit are the credit notes' totals
	// (in Currency's minor units): what reduced the amount due, and what
	// went beyond it (refund due).
	PrePaymentCredit  int64
	PostPaymentCredit int64
}

// LineInputWithID is a stored line: its id and the inputs it was made from.
type LineInputWithID struct {
	ID LineID
	LineInput
}

// Rehydrate rebuilds an invoice from storage. It is for repositories only: it
// checks structural invariants (valid status, lines and payments in the
// invoice's currency, totals that fit, credit within what was paid and due,
// paid ⇔ issued with nothing due, number
// and issue time ⇔ issued, void ⇔ a void reason, no payments on a draft or
// void invoice, uncollectible ⇒ a write-off time, overdue ⇒ issued with a due
// date, metadata within its limits) but no clock-based rule, and records no events. It fails with
// an error wrapping ErrCorruptInvoice that says which invariant broke.
func Rehydrate(s Snapshot) (*Invoice, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: invoice %s: %s", ErrCorruptInvoice, s.ID, fmt.Sprintf(format, args...))
	}
	if _, ok := ParseStatus(string(s.Status)); !ok {
		return nil, corrupt("unknown status %q", s.Status)
	}
	if _, err := kernel.NewMoney(0, s.Currency); err != nil {
		return nil, corrupt("unknown currency %q", s.Currency)
	}
	if s.Version < 1 {
		return nil, corrupt("version %d < 1", s.Version)
	}
	inv := &Invoice{
		id: s.ID, tenant: s.Tenant, number: s.Number, status: s.Status, currency: s.Currency,
		customer: s.Customer, dueDate: toDate(s.DueDate), issuedAt: s.IssuedAt, paidAt: s.PaidAt,
		voidedAt: s.VoidedAt, voidReason: s.VoidReason, version: s.Version,
		creditPre: s.PrePaymentCredit, creditPost: s.PostPaymentCredit,
		createdAt: s.CreatedAt, updatedAt: s.UpdatedAt,
		markedUncollectibleAt: s.MarkedUncollectibleAt, overdueAt: s.OverdueAt,
	}
	if err := inv.rehydrateMetadata(s.Metadata); err != nil {
		return nil, corrupt("%v", err)
	}
	if len(s.Lines) > MaxLines {
		return nil, corrupt("%d lines", len(s.Lines))
	}
	for i, in := range s.Lines {
		l, err := newLine(in.ID, in.LineInput, s.Currency)
		if err != nil {
			return nil, corrupt("line %d: %v", i, err)
		}
		inv.lines = append(inv.lines, l)
	}
	_, _, total, err := totals(inv.lines, s.Currency)
	if err != nil {
		return nil, corrupt("total overflows")
	}
	paid := kernel.Zero(s.Currency)
	refs := make(map[string]bool, len(s.Payments))
	for i, p := range s.Payments {
		if p.Amount.Currency() != s.Currency || p.Amount.Amount() <= 0 || refs[p.Reference] {
			return nil, corrupt("payment %d is invalid or repeats a reference", i)
		}
		refs[p.Reference] = true
		if paid, err = paid.Add(p.Amount); err != nil {
			return nil, corrupt("payments overflow")
		}
	}
	inv.payments = append([]Payment(nil), s.Payments...)
	issued := s.Status != StatusDraft
	switch {
	case paid.Amount() > total.Amount():
		return nil, corrupt("amount paid %d exceeds total %d", paid.Amount(), total.Amount())
	case s.PrePaymentCredit < 0 || s.PostPaymentCredit < 0 || s.PrePaymentCredit > total.Amount()-paid.Amount() ||
		s.PostPaymentCredit > paid.Amount():
		return nil, corrupt("credit %d before and %d after payment with %d of %d paid", s.PrePaymentCredit, s.PostPaymentCredit, paid.Amount(), total.Amount())
	case !creditable(s.Status) && s.PrePaymentCredit+s.PostPaymentCredit > 0:
		return nil, corrupt("%s with credit", s.Status)
	case issued != (s.Number != ""), issued != !s.IssuedAt.IsZero():
		return nil, corrupt("status %s with number %q issued at %v", s.Status, s.Number, s.IssuedAt)
	case (s.Status == StatusPaid) != (issued && paid.Amount()+s.PrePaymentCredit == total.Amount()):
		return nil, corrupt("status %s with %d of %d paid, %d credited", s.Status, paid.Amount(), total.Amount(), s.PrePaymentCredit)
	case (s.Status == StatusPaid) != !s.PaidAt.IsZero(), (s.Status == StatusVoid) != !s.VoidedAt.IsZero():
		return nil, corrupt("status %s disagrees with its timestamps", s.Status)
	case (s.Status == StatusVoid) != (s.VoidReason != ""):
		return nil, corrupt("status %s with void reason %q", s.Status, s.VoidReason)
	case (s.Status == StatusDraft || s.Status == StatusVoid) && len(s.Payments) > 0:
		return nil, corrupt("%s with payments", s.Status)
	case (s.Status == StatusUncollectible) && s.MarkedUncollectibleAt.IsZero(),
		(s.Status == StatusDraft || s.Status == StatusOpen) && !s.MarkedUncollectibleAt.IsZero():
		return nil, corrupt("status %s marked uncollectible at %v", s.Status, s.MarkedUncollectibleAt)
	case !s.OverdueAt.IsZero() && (!issued || s.DueDate.IsZero()):
		return nil, corrupt("status %s with due date %v overdue at %v", s.Status, s.DueDate, s.OverdueAt)
	}
	return inv, nil
}

// RehydrateLine rebuilds one stored line of an invoice in currency c,
// deriving its amount and tax as Rehydrate does: for repositories that read
// some of an invoice's lines without the invoice. It fails with an error
// wrapping ErrCorruptInvoice if the line breaks a rule of lines.
func RehydrateLine(in LineInputWithID, c kernel.Currency) (Line, error) {
	if _, err := kernel.NewMoney(0, c); err != nil {
		return Line{}, fmt.Errorf("%w: line %s: unknown currency %q", ErrCorruptInvoice, in.ID, c)
	}
	l, err := newLine(in.ID, in.LineInput, c)
	if err != nil {
		return Line{}, fmt.Errorf("%w: line %s: %v", ErrCorruptInvoice, in.ID, err)
	}
	return l, nil
}
