package invoice

import (
	"maps"
	"time"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// TypeUpdated is the event type of InvoiceUpdated.
const TypeUpdated = "invoice.updated"

// ErrCurrencyFixed means the currency of a draft cannot change because its
// lines are priced in it.
var ErrCurrencyFixed = &failure.Error{Kind: failure.Conflict, Code: "currency_fixed", Field: "currency",
	Message: "the currency cannot change once the invoice has lines"}

// InvoiceUpdated: fields of an invoice were edited (Edit). Fields names
// them ("customer", "due_date", "currency", "metadata"); the other members
// hold the invoice's values after the edit, changed or not.
type InvoiceUpdated struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Fields   []string        `json:"fields"`
	Number   string          `json:"number,omitempty"`
	Currency kernel.Currency `json:"currency"`
	Customer Customer        `json:"customer"`
	DueDate  string          `json:"due_date,omitempty"` // YYYY-MM-DD; absent: none
	Metadata Metadata        `json:"metadata,omitempty"`
}

// Type returns "invoice.updated".
func (InvoiceUpdated) Type() string { return TypeUpdated }

// Changes are the edits of Edit; a nil member leaves its field as it is.
type Changes struct {
	Customer *Customer
	DueDate  *time.Time // the zero time removes the due date
	Currency *kernel.Currency
	Metadata map[string]string // merged into the metadata; a "" value removes its key
	// ClearMetadata removes every key before Metadata merges (a JSON merge
	// patch's "metadata": null).
	ClearMetadata bool
}

// Edit changes the invoice's fields: customer, due date and currency on a
// draft only (the currency only while it has no lines), metadata in any
// status (cleared first if c.ClearMetadata); a field given with its current
// value is no change, in any status.
// It records InvoiceUpdated, or nothing if no value changes. It
// fails, changing nothing, with ErrInvalidTransition (field named) for a
// field other than metadata on an invoice that is not a draft, with
// ErrCurrencyFixed for a currency change of a draft with lines, and with
// the field errors of the values (invalid customer, due date, currency,
// ErrInvalidMetadata), joined.
func (inv *Invoice) Edit(c Changes, now time.Time) error {
	var errs []error
	draftOnly := func(field string) {
		errs = append(errs, ErrInvalidTransition.With(field, "%s can only be changed on a draft invoice; this one is %s", field, inv.status))
	}
	next := struct {
		customer Customer
		dueDate  time.Time
		currency kernel.Currency
	}{inv.customer, inv.dueDate, inv.currency}
	if c.Customer != nil {
		switch cu, cerrs := validCustomer(*c.Customer); {
		case inv.status != StatusDraft && cu != inv.customer:
			draftOnly("customer")
		default:
			errs = append(errs, cerrs...)
			next.customer = cu
		}
	}
	if c.DueDate != nil {
		switch d := toDate(*c.DueDate); {
		case d.Equal(inv.dueDate):
		case inv.status != StatusDraft:
			draftOnly("due_date")
		case !d.IsZero() && !dueDateInRange(d):
			errs = append(errs, errDueDate())
		default:
			next.dueDate = d
		}
	}
	if c.Currency != nil && *c.Currency != inv.currency {
		switch _, err := kernel.NewMoney(0, *c.Currency); {
		case inv.status != StatusDraft:
			draftOnly("currency")
		case err != nil:
			errs = append(errs, err)
		case len(inv.lines) > 0:
			errs = append(errs, ErrCurrencyFixed)
		default:
			next.currency = *c.Currency
		}
	}
	base := inv.metadata
	if c.ClearMetadata {
		base = nil
	}
	metadata, merrs := applyMetadata(base, c.Metadata)
	errs = append(errs, merrs...)
	if len(errs) > 0 {
		return joinErrors(errs)
	}

	var fields []string
	if next.customer != inv.customer {
		fields = append(fields, "customer")
	}
	if !next.dueDate.Equal(inv.dueDate) {
		fields = append(fields, "due_date")
	}
	if next.currency != inv.currency {
		fields = append(fields, "currency")
	}
	if !maps.Equal(metadata, inv.metadata) {
		fields = append(fields, "metadata")
	}
	if len(fields) == 0 {
		return nil
	}
	inv.customer, inv.dueDate, inv.currency, inv.metadata = next.customer, next.dueDate, next.currency, metadata
	inv.record(InvoiceUpdated{
		EventMeta:  inv.nextMeta(now),
		InvoiceRef: InvoiceRef{InvoiceID: inv.id},
		Fields:     fields,
		Number:     inv.number,
		Currency:   inv.currency,
		Customer:   inv.customer,
		DueDate:    inv.dueDateText(),
		Metadata:   inv.Metadata(),
	})
	return nil
}
