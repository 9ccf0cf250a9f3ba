package notification

import (
	"fmt"
	"strconv"
	"time"
)

// Step is one scheduled reminder: its number (from 1) and when it is due.
type Step struct {
	N  int
	At time.Time
}

// Steps returns the reminders not sent yet (those in flight included, those
// given up not), in order.
func (p *ReminderProcess) Steps() []Step {
	var steps []Step
	for i, at := range p.due {
		if !p.sent[i] && !p.givenUp[i] {
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

// Claim returns the email of reminder n and true if it is to be sent now:
// the process is active and n is one of its reminders not sent yet. It
// marks n in flight; the caller sends the email and then records it with
// MarkSent. A reminder already in flight is claimed again (its sender
// failed or died before recording it): the email is the same, Message-ID
// included, so a second copy is recognisable. Otherwise (closed, exhausted,
// already sent, given up) it returns false and changes nothing: the task
// that asks ends without sending.
func (p *ReminderProcess) Claim(n int) (Email, bool, error) {
	if p.state != ReminderActive || n < 1 || n > len(p.due) || p.sent[n-1] || p.givenUp[n-1] {
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
	p.sending[n-1] = true
	return e, true, nil
}

// MarkSent records that reminder n, claimed, went out. It is recorded
// whatever happened meanwhile, a close included: the email left. After the
// last one an active process is exhausted. It returns an error if n is not
// in flight.
func (p *ReminderProcess) MarkSent(n int) error { return p.settle(n, p.sent) }

// GiveUp records that reminder n, claimed, will never go out: the mail
// server refused it for good, or its task ran out of attempts. It no
// longer counts as in flight nor as to come, so the process is exhausted
// once nothing else is to go out, as after the last one sent. It returns
// an error if n is not in flight.
func (p *ReminderProcess) GiveUp(n int) error { return p.settle(n, p.givenUp) }

// settle takes reminder n out of flight into outcome (sent or givenUp),
// and exhausts an active process that has no reminder left to go out. It
// returns an error if n is not in flight.
func (p *ReminderProcess) settle(n int, outcome []bool) error {
	if n < 1 || n > len(p.due) || !p.sending[n-1] {
		return fmt.Errorf("notification: reminder %d of invoice %s is not being sent (state %s)", n, p.invoiceID, p.state)
	}
	p.sending[n-1], outcome[n-1] = false, true
	if _, ok := p.Next(); !ok && p.state == ReminderActive {
		p.state = ReminderExhausted
	}
	return nil
}

// SetJobs records the ids of the tasks the store scheduled, one per step
// in order, to cancel them when the process ends. It returns an error if
// their number is not the number of steps.
func (p *ReminderProcess) SetJobs(ids []int64) error {
	if len(ids) != len(p.due) {
		return fmt.Errorf("notification: %d reminder tasks for the %d steps of invoice %s", len(ids), len(p.due), p.invoiceID)
	}
	p.jobs = append([]int64(nil), ids...)
	return nil
}

// JobsToCancel returns the tasks of the reminders neither sent, in flight
// nor given up: those an ending process cancels. A reminder in flight is left to
// its task, which records it.
func (p *ReminderProcess) JobsToCancel() []int64 {
	var ids []int64
	for i, id := range p.jobs {
		if !p.sent[i] && !p.sending[i] && !p.givenUp[i] {
			ids = append(ids, id)
		}
	}
	return ids
}
