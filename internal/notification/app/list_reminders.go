package app

import (
	"context"
	"time"

	"github.com/invoicing-dev/invoicing/internal/failure"
)

// MaxRemindersListed is the most reminder processes one listing returns.
const MaxRemindersListed = 1000

// ErrInvalidInvoiceID: the invoice filter of a reminder listing is not an
// invoice id.
var ErrInvalidInvoiceID = &failure.Error{Kind: failure.Invalid, Code: "invalid_invoice_id", Field: "invoice", Message: "the invoice must be an invoice id (a UUID)"}

// ListReminders reads the payment reminder processes, for an operator:
// every invoice's, or InvoiceID's alone if it is set.
type ListReminders struct {
	InvoiceID string
}

// ReminderView is one payment reminder process as an operator reads it.
type ReminderView struct {
	InvoiceID, TenantID string
	Number              string // "" before the overdue event
	State               string // pending, active, exhausted or closed
	AmountDue           int64  // in Currency's minor units
	Currency            string // "" before the overdue event
	Sent, Steps         int    // reminders sent, of how many
	GivenUp             int    // reminders that will never go out: refused for good, or out of attempts
	NextStep            int    // the next reminder's number; 0: none will go out
	NextAt              time.Time
}

// ListRemindersHandler handles ListReminders.
type ListRemindersHandler struct {
	reminders Reminders
}

// NewListReminders returns the handler on the store of processes.
func NewListReminders(reminders Reminders) ListRemindersHandler {
	return ListRemindersHandler{reminders: reminders}
}

// Handle returns up to MaxRemindersListed processes, the active ones
// first. It returns ErrInvalidInvoiceID, or the store's error.
func (h ListRemindersHandler) Handle(ctx context.Context, cmd ListReminders) ([]ReminderView, error) {
	if cmd.InvoiceID != "" {
		if !isUUID(cmd.InvoiceID) {
			return nil, ErrInvalidInvoiceID
		}
	}
	return h.reminders.Reminders(ctx, cmd.InvoiceID, MaxRemindersListed)
}

// isUUID reports whether s is a UUID in its canonical text form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return false
		}
	}
	return true
}
