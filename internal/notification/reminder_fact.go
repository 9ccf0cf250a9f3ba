package notification

import (
	"fmt"
	"time"
)

// ReminderFact is what a reminder process learns from one event of its
// invoice: the event decoded to the fields the process keeps.
type ReminderFact struct {
	EventID   string
	Type      string
	Version   int64
	AmountDue int64 // payment_recorded, credited, overdue
	Overdue   *Overdue
}

// Overdue is the data of invoicing.invoice.overdue.
type Overdue struct {
	InvoiceID string    `json:"invoice_id"`
	Number    string    `json:"number"`
	Customer  Customer  `json:"customer"`
	Currency  string    `json:"currency"`
	DueDate   string    `json:"due_date"`
	AmountDue int64     `json:"amount_due"`
	OverdueAt time.Time `json:"overdue_at"`
}

// FactOf returns what ev tells a reminder process and true, or false if a
// reminder process does not follow ev's type. It returns an error wrapping
// ErrMalformed if ev has no invoiceversion or its data cannot be decoded.
func FactOf(ev Event) (ReminderFact, bool, error) {
	f := ReminderFact{EventID: ev.ID, Type: ev.Type, Version: ev.InvoiceVersion}
	switch ev.Type {
	case InvoicePaid, InvoiceVoided, InvoiceMarkedUncollectible:
	case InvoicePaymentRecorded, InvoiceCredited:
		var d struct {
			AmountDue *int64 `json:"amount_due"`
		}
		if err := decodeData(ev, &d); err != nil {
			return f, false, err
		}
		if d.AmountDue == nil {
			return f, false, fmt.Errorf("%w: %s without amount_due", ErrMalformed, ev.Type)
		}
		f.AmountDue = *d.AmountDue
	case InvoiceOverdue:
		var d Overdue
		if err := decodeData(ev, &d); err != nil {
			return f, false, err
		}
		if d.Customer.Email == "" || d.OverdueAt.IsZero() {
			return f, false, fmt.Errorf("%w: %s without customer email or overdue_at", ErrMalformed, ev.Type)
		}
		f.AmountDue, f.Overdue = d.AmountDue, &d
	default:
		return f, false, nil
	}
	if ev.InvoiceVersion < 1 {
		return f, false, fmt.Errorf("%w: %s without invoiceversion", ErrMalformed, ev.Type)
	}
	return f, true, nil
}
