package notification

import (
	"fmt"
	"strconv"
	"time"
)

// ReminderState is where an invoice's payment reminder process stands.
type ReminderState string

// The states of a reminder process. Pending and active move forward only;
// closed is final: once the invoice is settled, voided or written off, no
// event brings reminders back.
const (
	// ReminderPending: events of the invoice were seen, it is not overdue.
	ReminderPending ReminderState = "pending"
	// ReminderActive: overdue; reminders are scheduled, some still unsent.
	ReminderActive ReminderState = "active"
	// ReminderExhausted: every reminder of the schedule was sent; the
	// invoice is still unpaid.
	ReminderExhausted ReminderState = "exhausted"
	// ReminderClosed: paid, voided, written off or credited to nothing.
	ReminderClosed ReminderState = "closed"
)

// ReminderStates lists every state, in the order above.
var ReminderStates = []ReminderState{ReminderPending, ReminderActive, ReminderExhausted, ReminderClosed}

// ReminderEventTypes are the event types a reminder process follows.
var ReminderEventTypes = []string{
	InvoiceOverdue, InvoicePaymentRecorded, InvoiceCredited, InvoicePaid, InvoiceVoided, InvoiceMarkedUncollectible,
}

// ReminderChange is what applying a fact did, for the store to carry out
// in the same transaction.
type ReminderChange int

const (
	// ReminderIgnored: the fact was no newer than what the process knew
	// (a redelivery, or an event overtaken by a later one); nothing changed.
	ReminderIgnored ReminderChange = iota
	// ReminderUpdated: the process changed (version, amount due); no
	// reminder is scheduled or cancelled.
	ReminderUpdated
	// ReminderStarted: the invoice became overdue; schedule Steps.
	ReminderStarted
	// ReminderEnded: the process closed; cancel the pending reminders.
	ReminderEnded
)

// ReminderProcess is the payment reminder process of one invoice: the
// state it learned from the invoice's events, ordered by their
// invoiceversion, and the reminders it has sent.
type ReminderProcess struct {
	invoiceID, tenantID string
	state               ReminderState
	version             int64
	amountDue           int64
	overdueEventID      string
	overdue             Overdue
	due                 []time.Time // when each reminder goes out
	sent                []bool      // which reminders went out
	jobs                []int64     // the scheduled reminders' task ids (the store's)
}

// NewReminderProcess returns the process of an invoice of which nothing is
// known yet: pending, at version 0.
func NewReminderProcess(tenantID, invoiceID string) *ReminderProcess {
	return &ReminderProcess{invoiceID: invoiceID, tenantID: tenantID, state: ReminderPending}
}

// Apply changes the process by one fact of its invoice and says what the
// store must do. Facts may come in any order and more than once: the
// amount due is taken only from a fact newer (by invoiceversion) than every
// one applied, and the state only moves forward (pending, active,
// exhausted; from any of them to closed, which is final), so no late or
// repeated event undoes a later one: a paid invoice's late overdue event
// starts nothing, a redelivered overdue event no second series. schedule is
// used only when the invoice becomes overdue.
func (p *ReminderProcess) Apply(f ReminderFact, schedule Schedule) ReminderChange {
	newer := f.Version > p.version
	p.version = max(p.version, f.Version)
	unchanged := ReminderIgnored
	if newer {
		unchanged = ReminderUpdated
	}
	if p.state == ReminderClosed {
		return unchanged
	}
	switch f.Type {
	case InvoicePaid, InvoiceVoided, InvoiceMarkedUncollectible:
		return p.close()
	case InvoicePaymentRecorded, InvoiceCredited:
		if f.AmountDue <= 0 {
			return p.close()
		}
		if newer {
			p.amountDue = f.AmountDue
		}
	case InvoiceOverdue:
		if p.state != ReminderPending || f.Overdue == nil {
			return unchanged
		}
		if newer {
			p.amountDue = f.AmountDue
		}
		if p.amountDue <= 0 {
			return p.close()
		}
		p.overdueEventID, p.overdue = f.EventID, *f.Overdue
		p.state = ReminderActive
		p.due, p.sent = make([]time.Time, len(schedule)), make([]bool, len(schedule))
		for i, d := range schedule {
			p.due[i] = f.Overdue.OverdueAt.Add(d)
		}
		if len(schedule) == 0 {
			p.state = ReminderExhausted
			return ReminderUpdated
		}
		return ReminderStarted
	}
	return unchanged
}

func (p *ReminderProcess) close() ReminderChange {
	wasRunning := p.state == ReminderActive
	p.state = ReminderClosed
	if wasRunning {
		return ReminderEnded
	}
	return ReminderUpdated
}

// Step is one scheduled reminder: its number (from 1) and when it is due.
type Step struct {
	N  int
	At time.Time
}

// Steps returns the reminders not sent yet, in order.
func (p *ReminderProcess) Steps() []Step {
	var steps []Step
	for i, at := range p.due {
		if !p.sent[i] {
			steps = append(steps, Step{N: i + 1, At: at})
		}
	}
	return steps
}

// Next returns the next reminder to go out and true, or false if none
// will (not overdue yet, all sent, or closed).
func (p *ReminderProcess) Next() (Step, bool) {
	if p.state != ReminderActive {
		return Step{}, false
	}
	steps := p.Steps()
	if len(steps) == 0 {
		return Step{}, false
	}
	return steps[0], true
}

// Reminder returns the email of reminder n and true if it is to be sent
// now: the process is active and n is one of its reminders not sent yet.
// Otherwise (closed meanwhile, already sent) false: the task that asks
// ends without sending.
func (p *ReminderProcess) Reminder(n int) (Email, bool, error) {
	if p.state != ReminderActive || n < 1 || n > len(p.due) || p.sent[n-1] {
		return Email{}, false, nil
	}
	e, err := reminderTemplate.render(view{
		Name: p.overdue.Customer.Name, Number: p.overdue.Number, DueDate: p.overdue.DueDate,
		AmountDue: FormatAmount(p.amountDue, p.overdue.Currency), Step: n,
	})
	if err != nil {
		return Email{}, false, err
	}
	e.To, e.EventID, e.Reaction = p.overdue.Customer, p.overdueEventID, "reminder-"+strconv.Itoa(n)
	return e, true, nil
}

// MarkSent records that reminder n went out; after the last one the
// process is exhausted. It returns an error if n is not a reminder Reminder
// would send.
func (p *ReminderProcess) MarkSent(n int) error {
	if p.state != ReminderActive || n < 1 || n > len(p.due) || p.sent[n-1] {
		return fmt.Errorf("notification: reminder %d of invoice %s is not due (state %s)", n, p.invoiceID, p.state)
	}
	p.sent[n-1] = true
	if _, ok := p.Next(); !ok {
		p.state = ReminderExhausted
	}
	return nil
}

// SetJobs records the ids of the tasks the store scheduled for Steps, to
// cancel them when the process ends.
func (p *ReminderProcess) SetJobs(ids []int64) { p.jobs = append([]int64(nil), ids...) }

// InvoiceID returns the invoice's id.
func (p *ReminderProcess) InvoiceID() string { return p.invoiceID }

// TenantID returns the tenant the invoice belongs to.
func (p *ReminderProcess) TenantID() string { return p.tenantID }

// State returns the process's state.
func (p *ReminderProcess) State() ReminderState { return p.state }

// Version returns the invoiceversion of the last event applied.
func (p *ReminderProcess) Version() int64 { return p.version }

// AmountDue returns the last amount due the events told, in minor units.
func (p *ReminderProcess) AmountDue() int64 { return p.amountDue }

// Overdue returns the overdue event's id and data; empty before it.
func (p *ReminderProcess) Overdue() (eventID string, d Overdue) { return p.overdueEventID, p.overdue }

// Due returns when each reminder goes out.
func (p *ReminderProcess) Due() []time.Time { return append([]time.Time(nil), p.due...) }

// Sent returns which reminders went out.
func (p *ReminderProcess) Sent() []bool { return append([]bool(nil), p.sent...) }

// Jobs returns the scheduled reminders' task ids.
func (p *ReminderProcess) Jobs() []int64 { return append([]int64(nil), p.jobs...) }

// ReminderSnapshot is a process as the store keeps it.
type ReminderSnapshot struct {
	InvoiceID, TenantID string
	State               ReminderState
	Version, AmountDue  int64
	OverdueEventID      string
	Overdue             Overdue
	Due                 []time.Time
	Sent                []bool
	Jobs                []int64
}

// RehydrateReminder returns the process a store kept. It checks structure
// only; it returns an error if the state is unknown or due and sent differ
// in length.
func RehydrateReminder(s ReminderSnapshot) (*ReminderProcess, error) {
	known := false
	for _, st := range ReminderStates {
		known = known || st == s.State
	}
	if !known || len(s.Due) != len(s.Sent) || s.InvoiceID == "" {
		return nil, fmt.Errorf("notification: reminder process of invoice %q: state %q, %d due, %d sent", s.InvoiceID, s.State, len(s.Due), len(s.Sent))
	}
	return &ReminderProcess{
		invoiceID: s.InvoiceID, tenantID: s.TenantID, state: s.State, version: s.Version, amountDue: s.AmountDue,
		overdueEventID: s.OverdueEventID, overdue: s.Overdue, due: s.Due, sent: s.Sent, jobs: s.Jobs,
	}, nil
}

// Snapshot returns the process as a store keeps it.
func (p *ReminderProcess) Snapshot() ReminderSnapshot {
	return ReminderSnapshot{
		InvoiceID: p.invoiceID, TenantID: p.tenantID, State: p.state, Version: p.version, AmountDue: p.amountDue,
		OverdueEventID: p.overdueEventID, Overdue: p.overdue, Due: p.Due(), Sent: p.Sent(), Jobs: p.Jobs(),
	}
}
