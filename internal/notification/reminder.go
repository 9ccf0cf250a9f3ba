package notification

import (
	"fmt"
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
	// ReminderActive: overdue; reminders are scheduled, some still unsent
	// (perhaps one being sent).
	ReminderActive ReminderState = "active"
	// ReminderExhausted: every reminder of the schedule was sent; the
	// invoice is still unpaid.
	ReminderExhausted ReminderState = "exhausted"
	// ReminderClosed: paid, voided, written off or credited to nothing. A
	// reminder already being sent when it closed is still recorded when
	// its send ends; no other starts.
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
//
// Sending a reminder takes two steps, so that nothing waits on the mail
// server while the process is held: Claim starts a reminder (it is then in
// flight), MarkSent records it. A fact may close the process in between;
// the reminder in flight is still recorded, but once closed no reminder is
// claimed again.
type ReminderProcess struct {
	invoiceID, tenantID string
	state               ReminderState
	version             int64
	amountDue           int64
	overdueEventID      string
	overdue             Overdue
	due                 []time.Time // when each reminder goes out
	sent                []bool      // which reminders went out
	sending             []bool      // which reminders were claimed and not recorded yet: in flight
	givenUp             []bool      // which reminders were claimed and will never go out: refused for good, or out of attempts
	jobs                []int64     // the scheduled reminders' task ids (the store's), one per step or none
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
		p.due, p.sent, p.sending = make([]time.Time, len(schedule)), make([]bool, len(schedule)), make([]bool, len(schedule))
		p.givenUp = make([]bool, len(schedule))
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

// Sending returns which reminders are in flight: claimed, not recorded.
func (p *ReminderProcess) Sending() []bool { return append([]bool(nil), p.sending...) }

// GivenUp returns which reminders will never go out: claimed, then
// refused for good by the mail server, or out of attempts.
func (p *ReminderProcess) GivenUp() []bool { return append([]bool(nil), p.givenUp...) }

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
	Sending             []bool // empty: none in flight
	GivenUp             []bool // empty: none given up
	Jobs                []int64
}

// RehydrateReminder returns the process a store kept. It checks structure
// only; it returns an error if the state is unknown, or due, sent, sending
// (unless empty), given up (unless empty) and jobs (unless empty) differ in
// length, or a reminder is both sent and in flight, or given up and either.
func RehydrateReminder(s ReminderSnapshot) (*ReminderProcess, error) {
	known := false
	for _, st := range ReminderStates {
		known = known || st == s.State
	}
	if len(s.Sending) == 0 {
		s.Sending = make([]bool, len(s.Due))
	}
	if len(s.GivenUp) == 0 {
		s.GivenUp = make([]bool, len(s.Due))
	}
	ok := known && s.InvoiceID != "" && len(s.Due) == len(s.Sent) && len(s.Due) == len(s.Sending) &&
		len(s.Due) == len(s.GivenUp) && (len(s.Jobs) == 0 || len(s.Jobs) == len(s.Due))
	for i := range s.Sent {
		ok = ok && !(s.Sent[i] && s.Sending[i]) && !(s.GivenUp[i] && (s.Sent[i] || s.Sending[i]))
	}
	if !ok {
		return nil, fmt.Errorf("notification: reminder process of invoice %q: state %q, %d due, %d sent, %d sending, %d given up, %d jobs",
			s.InvoiceID, s.State, len(s.Due), len(s.Sent), len(s.Sending), len(s.GivenUp), len(s.Jobs))
	}
	return &ReminderProcess{
		invoiceID: s.InvoiceID, tenantID: s.TenantID, state: s.State, version: s.Version, amountDue: s.AmountDue,
		overdueEventID: s.OverdueEventID, overdue: s.Overdue, due: s.Due, sent: s.Sent, sending: s.Sending, givenUp: s.GivenUp,
		jobs: s.Jobs,
	}, nil
}

// Snapshot returns the process as a store keeps it.
func (p *ReminderProcess) Snapshot() ReminderSnapshot {
	return ReminderSnapshot{
		InvoiceID: p.invoiceID, TenantID: p.tenantID, State: p.state, Version: p.version, AmountDue: p.amountDue,
		OverdueEventID: p.overdueEventID, Overdue: p.overdue, Due: p.Due(), Sent: p.Sent(), Sending: p.Sending(),
		GivenUp: p.GivenUp(), Jobs: p.Jobs(),
	}
}
