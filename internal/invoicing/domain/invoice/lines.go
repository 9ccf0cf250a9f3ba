package invoice

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// LineInput is what a caller supplies for a new line.
type LineInput struct {
	Description string
	Quantity    int64
	UnitAmount  int64 // minor units, >= 0
	TaxRateBPS  int64 // basis points, 0..10000 (2000 = 20%)
}

// Line is one priced line of an invoice. Amount and Tax are derived:
// Amount = Quantity × UnitAmount, Tax = Amount × TaxRateBPS / 10000 rounded half-up.
type Line struct {
	ID          LineID
	Description string
	Quantity    int64
	UnitAmount  kernel.Money
	TaxRateBPS  int64
	Amount      kernel.Money
	Tax         kernel.Money
}

// newLine validates in and derives the line's amount and tax.
func newLine(id LineID, in LineInput, c kernel.Currency) (Line, *failure.Error) {
	if !kernel.ValidText(in.Description, MaxDescription) {
		return Line{}, ErrInvalidDescription.With("description", "description is required, at most %d characters, without control characters", MaxDescription)
	}
	if in.Quantity < 1 || in.Quantity > MaxQuantity {
		return Line{}, ErrInvalidQuantity.With("quantity", "quantity must be between 1 and %d", MaxQuantity)
	}
	if in.UnitAmount < 0 {
		return Line{}, ErrInvalidAmount.With("unit_amount", "unit_amount must not be negative")
	}
	if in.TaxRateBPS < 0 || in.TaxRateBPS > MaxTaxRateBPS {
		return Line{}, kernel.ErrInvalidTaxRate.With("tax_rate_bps", "tax_rate_bps must be between 0 and %d", MaxTaxRateBPS)
	}
	unit := minor(in.UnitAmount, c)
	amount, err := unit.Mul(in.Quantity)
	if err != nil {
		return Line{}, kernel.ErrAmountOverflow.With("unit_amount", "quantity × unit_amount is too large")
	}
	tax, _ := amount.RateBPS(in.TaxRateBPS) // rate checked above
	if _, err := amount.Add(tax); err != nil {
		return Line{}, kernel.ErrAmountOverflow.With("unit_amount", "line amount plus tax is too large")
	}
	return Line{
		ID:          id,
		Description: in.Description,
		Quantity:    in.Quantity,
		UnitAmount:  unit,
		TaxRateBPS:  in.TaxRateBPS,
		Amount:      amount,
		Tax:         tax,
	}, nil
}

// totals returns subtotal, tax and total of lines, or kernel.ErrAmountOverflow.
func totals(lines []Line, c kernel.Currency) (sub, tax, total kernel.Money, err error) {
	sub, tax = kernel.Zero(c), kernel.Zero(c)
	for _, l := range lines {
		if sub, err = sub.Add(l.Amount); err != nil {
			return kernel.Money{}, kernel.Money{}, kernel.Money{}, err
		}
		if tax, err = tax.Add(l.Tax); err != nil {
			return kernel.Money{}, kernel.Money{}, kernel.Money{}, err
		}
	}
	if total, err = sub.Add(tax); err != nil {
		return kernel.Money{}, kernel.Money{}, kernel.Money{}, err
	}
	return sub, tax, total, nil
}

// AddLine appends a line to a draft invoice and records InvoiceLineAdded.
// It fails with ErrInvalidTransition unless the invoice is a draft, with
// ErrTooManyLines at MaxLines, and with a field *failure.Error for invalid input or a
// total that would overflow.
func (inv *Invoice) AddLine(in LineInput, now time.Time) (LineID, error) {
	if inv.status != StatusDraft {
		return LineID{}, ErrInvalidTransition.With("", "lines can only be added to a draft invoice; this one is %s", inv.status)
	}
	if len(inv.lines) >= MaxLines {
		return LineID{}, ErrTooManyLines.With("", "an invoice has at most %d lines", MaxLines)
	}
	l, lerr := newLine(LineID(newUUID()), in, inv.currency)
	if lerr != nil {
		return LineID{}, lerr
	}
	lines := append(inv.Lines(), l)
	sub, tax, total, err := totals(lines, inv.currency)
	if err != nil {
		return LineID{}, kernel.ErrAmountOverflow.With("unit_amount", "the invoice total would be too large")
	}
	inv.lines = lines
	inv.record(InvoiceLineAdded{
		EventMeta:  inv.nextMeta(now),
		InvoiceRef: InvoiceRef{InvoiceID: inv.id},
		Line:       lineData([]Line{l})[0],
		Subtotal:   sub.Amount(),
		Tax:        tax.Amount(),
		Total:      total.Amount(),
	})
	return l.ID, nil
}

// RemoveLine removes a line from a draft invoice and records
// InvoiceLineRemoved. It fails with ErrInvalidTransition unless the invoice is
// a draft and with ErrLineNotFound for an unknown line.
func (inv *Invoice) RemoveLine(id LineID, now time.Time) error {
	if inv.status != StatusDraft {
		return ErrInvalidTransition.With("", "lines can only be removed from a draft invoice; this one is %s", inv.status)
	}
	i := inv.lineIndex(id)
	if i < 0 {
		return ErrLineNotFound
	}
	inv.lines = slices.Delete(inv.Lines(), i, i+1)
	sub, tax, total, _ := totals(inv.lines, inv.currency) // fewer lines cannot overflow
	inv.record(InvoiceLineRemoved{
		EventMeta:  inv.nextMeta(now),
		InvoiceRef: InvoiceRef{InvoiceID: inv.id},
		LineID:     id,
		Subtotal:   sub.Amount(),
		Tax:        tax.Amount(),
		Total:      total.Amount(),
	})
	return nil
}

func (inv *Invoice) lineIndex(id LineID) int {
	for i, l := range inv.lines {
		if l.ID == id {
			return i
		}
	}
	return -1
}

func indexed(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

// joinErrors joins errs; a single error is returned as is so errors.As and
// field reporting stay simple for the common case.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
