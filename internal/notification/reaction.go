package notification

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Reaction is one follow-up action to an event type: one email. Each
// reaction to an event becomes its own stored task, retried on its own, so a
// failing reaction never repeats or blocks another one of the same event.
type Reaction struct {
	// Name identifies the reaction: stable, lower case, no dot. It is stored
	// with each task and is part of the email's Message-ID.
	Name string
	// On is the event type the reaction answers, e.g. InvoiceIssued.
	On string
	// Render returns the email for ev, sent to to. It returns an error
	// wrapping ErrMalformed if ev's data cannot be decoded.
	Render func(ev Event, to Customer) (Email, error)
}

// DefaultReactions are the emails an invoicing service is expected to send:
// the invoice when it is issued, a receipt when paid, a notice when voided.
func DefaultReactions() []Reaction {
	return []Reaction{
		{Name: "invoice", On: InvoiceIssued, Render: renderInvoice},
		{Name: "receipt", On: InvoicePaid, Render: renderReceipt},
		{Name: "void-notice", On: InvoiceVoided, Render: renderVoidNotice},
	}
}

// EventTypes returns the event types reactions answer, each once, in order.
func EventTypes(reactions []Reaction) []string {
	var types []string
	seen := map[string]bool{}
	for _, r := range reactions {
		if !seen[r.On] {
			seen[r.On] = true
			types = append(types, r.On)
		}
	}
	return types
}

// ConsumedTypes returns the event types the email consumer reads: those
// reactions answer and those payment reminder processes follow, each once.
func ConsumedTypes(reactions []Reaction) []string {
	types := EventTypes(reactions)
	for _, t := range ReminderEventTypes {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types
}

// Task is one reaction to one event: what the queue stores and a worker
// turns into an email. Its JSON is stored; add fields, never rename one.
type Task struct {
	EventID  string   `json:"event_id"`
	Reaction string   `json:"reaction"`
	To       Customer `json:"to"`
	Event    Event    `json:"event"`
}

// Plan returns one task per reaction to ev, addressed to to; none if no
// reaction answers ev's type.
func Plan(ev Event, to Customer, reactions []Reaction) []Task {
	var tasks []Task
	for _, r := range reactions {
		if r.On == ev.Type {
			tasks = append(tasks, Task{EventID: ev.ID, Reaction: r.Name, To: to, Event: ev})
		}
	}
	return tasks
}

// Recipient returns the customer named in ev's data and true, for the event
// types that name one (issued, paid, overdue); false for the others. It returns an
// error wrapping ErrMalformed if the data cannot be decoded.
func Recipient(ev Event) (Customer, bool, error) {
	var d struct {
		Customer *Customer `json:"customer"`
	}
	switch ev.Type {
	case InvoiceIssued, InvoicePaid, InvoiceOverdue:
	default:
		return Customer{}, false, nil
	}
	if err := decodeData(ev, &d); err != nil {
		return Customer{}, false, err
	}
	if d.Customer == nil || d.Customer.Email == "" {
		return Customer{}, false, fmt.Errorf("%w: %s without customer email", ErrMalformed, ev.Type)
	}
	return *d.Customer, true, nil
}

// ErrUndeliverable marks a send that no retry can fix: an invalid recipient
// address, a permanent (5xx) refusal by the mail server.
var ErrUndeliverable = errors.New("notification: email undeliverable")

// Mailer sends one email. Implementations return an error if the email may
// not have been accepted, wrapping ErrUndeliverable if retrying cannot help;
// other failures are retried, so an email may be sent twice, recognisable by
// its Message-ID.
type Mailer interface {
	Send(ctx context.Context, e Email) error
}

// Render returns the email of t, rendered by the reaction t names. It
// returns an error if no reaction has that name (a task stored by a release
// that had it) or the event cannot be decoded.
func Render(t Task, reactions []Reaction) (Email, error) {
	for _, r := range reactions {
		if r.Name == t.Reaction {
			e, err := r.Render(t.Event, t.To)
			if err != nil {
				return Email{}, err
			}
			e.EventID, e.Reaction, e.To = t.EventID, t.Reaction, t.To
			return e, nil
		}
	}
	return Email{}, fmt.Errorf("notification: no reaction %q (task of event %s)", t.Reaction, t.EventID)
}
