package creditnote

import (
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Limits on a credit note's contents.
const (
	MaxLines       = 100
	MaxDescription = invoice.MaxDescription
	MaxMemo        = 500
	maxNumber      = 64
)

// Reason is why a credit note was issued, as Stripe names them.
type Reason string

// The reasons.
const (
	ReasonDuplicate             Reason = "duplicate"
	ReasonFraudulent            Reason = "fraudulent"
	ReasonOrderChange           Reason = "order_change"
	ReasonProductUnsatisfactory Reason = "product_unsatisfactory"
)

// ParseReason returns the Reason named s, or ErrInvalidReason.
func ParseReason(s string) (Reason, error) {
	switch r := Reason(s); r {
	case ReasonDuplicate, ReasonFraudulent, ReasonOrderChange, ReasonProductUnsatisfactory:
		return r, nil
	}
	return "", ErrInvalidReason
}

// LineInput is a line of a credit note as a caller gives it.
type LineInput struct {
	Description string
	Amount      int64 // minor units of the invoice's currency
}

// Line is a line of a credit note.
type Line struct {
	Description string
	Amount      kernel.Money
}

// Request is a valid credit note not yet issued: its lines or amount, reason
// and memo, in the invoice's currency.
type Request struct {
	lines  []Line
	amount kernel.Money
	reason Reason
	memo   string
}

// NewRequest returns the request for a credit note in currency c of either
// lines or amount (not both; amount nil means none), with reason and memo
// ("" for none). It fails with a joined set of *failure.Error, one per field
// at fault: ErrLinesOrAmount (both or neither), invoice.ErrInvalidAmount
// (not positive), invoice.ErrInvalidDescription, invoice.ErrTooManyLines,
// kernel.ErrAmountOverflow, ErrInvalidReason, ErrInvalidMemo; lines'
// fields are reported as "lines[i].field".
func NewRequest(c kernel.Currency, lines []LineInput, amount *int64, reason, memo string) (Request, error) {
	var errs []error
	req := Request{memo: memo}
	var err error
	if req.reason, err = ParseReason(reason); err != nil {
		errs = append(errs, err)
	}
	if memo != "" && (!utf8.ValidString(memo) || utf8.RuneCountInString(memo) > MaxMemo || kernel.HasControl(memo)) {
		errs = append(errs, ErrInvalidMemo)
	}
	switch {
	case (len(lines) > 0) == (amount != nil):
		errs = append(errs, ErrLinesOrAmount)
	case amount != nil:
		if req.amount, err = positive(*amount, c, "amount"); err != nil {
			errs = append(errs, err)
		}
	case len(lines) > MaxLines:
		errs = append(errs, invoice.ErrTooManyLines.With("lines", "a credit note has at most %d lines", MaxLines))
	default:
		req.amount = kernel.Zero(c)
		for i, in := range lines {
			at := "lines[" + strconv.Itoa(i) + "]."
			if !kernel.ValidText(in.Description, MaxDescription) {
				errs = append(errs, invoice.ErrInvalidDescription.With(at+"description", "description is required, at most %d characters, without control characters", MaxDescription))
			}
			m, err := positive(in.Amount, c, at+"amount")
			if err != nil {
				errs = append(errs, err)
				continue
			}
			req.lines = append(req.lines, Line{Description: in.Description, Amount: m})
			if req.amount, err = req.amount.Add(m); err != nil {
				errs = append(errs, kernel.ErrAmountOverflow.With("lines", "the credit note's amount is too large"))
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Request{}, err
	}
	return req, nil
}

// Amount returns the amount the request credits.
func (r Request) Amount() kernel.Money { return r.amount }

// Blame returns err as the request's fault: a *failure.Error naming
// "amount" names "lines" instead when the request credits lines, since the
// invoice's rules (invoice.Invoice.CanCredit) judge the credit note's amount,
// which such a request does not send. Any other err is returned as it is.
func (r Request) Blame(err error) error {
	var fe *failure.Error
	if len(r.lines) == 0 || !errors.As(err, &fe) || fe.Field != "amount" {
		return err
	}
	c := *fe
	c.Field = "lines"
	return &c
}

// positive returns minor units of c, or invoice.ErrInvalidAmount at field
// unless positive (or kernel.ErrInvalidCurrency for an unknown c).
func positive(minor int64, c kernel.Currency, field string) (kernel.Money, error) {
	m, err := kernel.NewMoney(minor, c)
	if err != nil {
		return kernel.Money{}, err
	}
	if minor <= 0 {
		return kernel.Money{}, invoice.ErrInvalidAmount.With(field, "amount must be positive")
	}
	return m, nil
}
