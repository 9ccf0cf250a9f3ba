package notifypg_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
)

// reminderRig is a queue with a real mailer on a test SMTP server and a
// schedule of seconds, fed through the email consumer's inbox.
type reminderRig struct {
	pool *pgxpool.Pool
	q    *notifypg.Queue
	in   *notifypg.Inbox
	mail *smtptest.Server
}

func newReminderRig(t *testing.T, schedule notification.Schedule) *reminderRig {
	t.Helper()
	return newReminderRigWith(t, notifypg.QueueConfig{Reminders: schedule})
}

// newReminderRigWith is newReminderRig with cfg's schedule and attempts;
// the rig sets the mailer and the retry wait.
func newReminderRigWith(t *testing.T, cfg notifypg.QueueConfig) *reminderRig {
	t.Helper()
	pool := newPool(t)
	mail := smtptest.New(t)
	mailer, err := notifysmtp.New(notifysmtp.Config{URL: mail.URL(), From: "billing@example.com", Domain: "example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Mailer, cfg.RetryBase = mailer, 100*time.Millisecond
	q, err := notifypg.NewQueue(pool, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	return &reminderRig{pool: pool, q: q, in: q.Inbox("notification"), mail: mail}
}

// invoiceEvent is one event of invoice at version, its data completed with
// the invoice's number, currency and customer.
func invoiceEvent(invoice, typ string, version int, data string) notification.Event {
	return notification.Event{
		ID: uuid.NewString(), Type: typ, Subject: invoice, TenantID: "acme", InvoiceVersion: int64(version),
		Time: time.Now(), Sequence: notification.Sequence(fmt.Sprint(version)),
		Data: []byte(`{"invoice_id":"` + invoice + `","number":"INV-2026-000042","currency":"EUR",` +
			`"customer":{"name":"Ada Lovelace","email":"ada@example.com"}` + data + `}`),
	}
}

func overdueEvent(invoice string, version int, at time.Time, amountDue int) notification.Event {
	return invoiceEvent(invoice, notification.InvoiceOverdue, version,
		fmt.Sprintf(`,"due_date":"2026-11-30","amount_due":%d,"overdue_at":%q`, amountDue, at.UTC().Format(time.RFC3339Nano)))
}

func (r *reminderRig) handle(t *testing.T, evs ...notification.Event) {
	t.Helper()
	if _, err := r.in.Handle(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

// ids returns the Message-IDs of msgs.
func ids(msgs map[string]smtptest.Message) []string {
	var out []string
	for id := range msgs {
		out = append(out, id)
	}
	return out
}

// reminders returns the reminders the server holds, by Message-ID.
func (r *reminderRig) reminders() map[string]smtptest.Message {
	got := map[string]smtptest.Message{}
	for _, m := range r.mail.Messages() {
		if strings.Contains(m.MessageID(), ".reminder-") {
			got[m.MessageID()] = m
		}
	}
	return got
}

func (r *reminderRig) state(t *testing.T, invoice string) notification.ReminderState {
	t.Helper()
	procs, err := r.q.Reminders(context.Background(), invoice, 10)
	if err != nil || len(procs) != 1 {
		t.Fatalf("process of %s: %v, %v", invoice, procs, err)
	}
	return notification.ReminderState(procs[0].State)
}

func TestRemindersAreSentOnScheduleNamingTheAmountStillDue(t *testing.T) {
	r := newReminderRig(t, notification.Schedule{time.Second, 2 * time.Second, 3 * time.Second})
	inv := uuid.NewString()
	overdue := overdueEvent(inv, 4, time.Now(), 12000)
	r.handle(t, overdue)
	r.handle(t, overdue) // a redelivery: no second series
	r.handle(t, invoiceEvent(inv, notification.InvoicePaymentRecorded, 5, `,"amount":2000,"amount_due":10000`))
	waitFor(t, "three reminders", func() bool { return len(r.reminders()) == 3 })
	time.Sleep(time.Second) // anything more would show now
	got := r.reminders()
	for n := 1; n <= 3; n++ {
		m, ok := got[fmt.Sprintf("<%s.reminder-%d@example.com>", overdue.ID, n)]
		if !ok {
			t.Fatalf("reminder %d missing; got %v", n, ids(got))
		}
		for _, want := range []string{"EUR 100.00", "INV-2026-000042", "2026-11-30"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("reminder %d lacks %q:\n%s", n, want, m.Text)
			}
		}
	}
	if n := len(r.mail.Messages()); n != 3 {
		t.Errorf("%d emails, want the 3 reminders", n)
	}
	if s := r.state(t, inv); s != notification.ReminderExhausted {
		t.Errorf("state %s, want exhausted", s)
	}
	processes, sent, err := r.q.ReminderCounts(context.Background())
	if err != nil || sent != 3 || processes["exhausted"] != 1 {
		t.Errorf("counts %v, sent %d, %v", processes, sent, err)
	}
}

func TestRemindersPastDueAreSentAtOnce(t *testing.T) {
	r := newReminderRig(t, notification.Schedule{72 * time.Hour, 168 * time.Hour, 336 * time.Hour})
	inv := uuid.NewString()
	r.handle(t, overdueEvent(inv, 4, time.Now().Add(-200*time.Hour), 12000))
	waitFor(t, "the two reminders past due", func() bool { return len(r.reminders()) == 2 })
	waitFor(t, "both recorded, reminder 3 next", func() bool {
		procs, err := r.q.Reminders(context.Background(), inv, 1)
		if err != nil {
			t.Fatal(err)
		}
		return procs[0].NextStep == 3
	})
}

func TestPaidEndsTheReminders(t *testing.T) {
	r := newReminderRig(t, notification.Schedule{time.Second, 2 * time.Second})
	inv := uuid.NewString()
	r.handle(t, overdueEvent(inv, 4, time.Now(), 12000))
	r.handle(t, invoiceEvent(inv, notification.InvoicePaid, 5, `,"total":12000,"amount_paid":12000,"paid_at":"2026-12-02T10:00:00Z"`))
	time.Sleep(8 * time.Second) // past both steps and River's scheduling interval
	if got := r.reminders(); len(got) != 0 {
		t.Errorf("reminders after paid: %v", ids(got))
	}
	if s := r.state(t, inv); s != notification.ReminderClosed {
		t.Errorf("state %s, want closed", s)
	}
}

func TestPaidRedeliveredBeforeOverdueStartsNothing(t *testing.T) {
	r := newReminderRig(t, notification.Schedule{time.Second})
	inv := uuid.NewString()
	r.handle(t, invoiceEvent(inv, notification.InvoicePaid, 5, `,"total":12000,"amount_paid":12000,"paid_at":"2026-12-02T10:00:00Z"`))
	r.handle(t, overdueEvent(inv, 4, time.Now().Add(-time.Hour), 12000))
	time.Sleep(6 * time.Second)
	if got := r.reminders(); len(got) != 0 {
		t.Errorf("reminders for a paid invoice: %v", ids(got))
	}
	if s := r.state(t, inv); s != notification.ReminderClosed {
		t.Errorf("state %s, want closed", s)
	}
}

// TestReminderChecksTheProcessWhenItFires: a reminder task whose
// cancellation never happened (here: its process closed behind its back,
// as an event committed just before the task's transaction would) still
// sends nothing, because the task asks the process in its transaction.
func TestReminderChecksTheProcessWhenItFires(t *testing.T) {
	r := newReminderRig(t, notification.Schedule{2 * time.Second})
	inv := uuid.NewString()
	r.handle(t, overdueEvent(inv, 4, time.Now(), 12000))
	if _, err := r.pool.Exec(context.Background(), `UPDATE notification.reminder_processes SET state = 'closed' WHERE invoice_id = $1`, inv); err != nil {
		t.Fatal(err)
	}
	time.Sleep(8 * time.Second)
	if got := r.reminders(); len(got) != 0 {
		t.Errorf("a reminder of a closed process went out: %v", ids(got))
	}
}

// A reminder the mail server refuses for good is given up: it is no longer
// the next one, and the process is exhausted once the others went out, not
// left active with that reminder in flight for ever.
func TestAReminderRefusedForGoodIsGivenUp(t *testing.T) {
	r := newReminderRig(t, notification.Schedule{time.Second, 2 * time.Second})
	r.refuseReminder1(&smtp.SMTPError{Code: 550, Message: "no such mailbox"})
	r.checkReminder1GivenUp(t)
}

// So is a reminder whose task runs out of attempts, the mail server
// refusing it for now each time.
func TestAReminderOutOfAttemptsIsGivenUp(t *testing.T) {
	r := newReminderRigWith(t, notifypg.QueueConfig{Reminders: notification.Schedule{time.Second, 2 * time.Second}, MaxAttempts: 2})
	r.refuseReminder1(context.DeadlineExceeded) // a 451
	r.checkReminder1GivenUp(t)
}

// refuseReminder1 makes the mail server refuse every reminder 1 with err.
func (r *reminderRig) refuseReminder1(err error) {
	r.mail.Reject(func(m smtptest.Message) error {
		if strings.Contains(m.MessageID(), ".reminder-1@") {
			return err
		}
		return nil
	})
}

// checkReminder1GivenUp starts a process whose reminder 1 is due and 2 is
// due half a second later, and checks that it ends exhausted with
// reminder 2 sent and reminder 1 given up.
func (r *reminderRig) checkReminder1GivenUp(t *testing.T) {
	t.Helper()
	inv := uuid.NewString()
	r.handle(t, overdueEvent(inv, 4, time.Now().Add(-1500*time.Millisecond), 12000)) // reminder 1 due, 2 in half a second
	view := func() app.ReminderView {
		procs, err := r.q.Reminders(context.Background(), inv, 1)
		if err != nil || len(procs) != 1 {
			t.Fatalf("process of %s: %v, %v", inv, procs, err)
		}
		return procs[0]
	}
	waitFor(t, "reminder 2 sent and recorded", func() bool { return view().Sent == 1 })
	waitFor(t, "the process exhausted", func() bool { return view().State == string(notification.ReminderExhausted) })
	if v := view(); v.NextStep != 0 || v.GivenUp != 1 {
		t.Errorf("next reminder %d at %s, %d given up; want none next, 1 given up", v.NextStep, v.NextAt, v.GivenUp)
	}
	if got := r.reminders(); len(got) != 1 {
		t.Errorf("reminders received %v, want reminder 2 alone", ids(got))
	}
}
