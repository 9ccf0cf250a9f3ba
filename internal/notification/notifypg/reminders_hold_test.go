package notifypg_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/notification"
)

// TestASlowReminderSendHoldsUpNoOne: while the mail server keeps a
// reminder's sender waiting for its reply, (1) an event batch with the
// invoice's paid event and another tenant's event commits without waiting
// for that send, (2) no session of the database sits idle in a transaction
// that holds a transaction id (which would hold back every snapshot's xmin,
// and with it the invoicing event feed and vacuum), and (3) once the send
// ends the process is closed, the reminder in flight is recorded, and the
// invoice's next step sends nothing even when its task runs.
func TestASlowReminderSendHoldsUpNoOne(t *testing.T) {
	r := newReminderRig(t, notification.Schedule{time.Second, time.Hour})
	ctx := context.Background()
	inv := uuid.NewString()
	overdue := overdueEvent(inv, 4, time.Now(), 12000)
	r.mail.Hold()
	t.Cleanup(r.mail.Release)
	r.handle(t, overdue)
	waitFor(t, "reminder 1 taken by the server", func() bool { return len(r.reminders()) == 1 })

	var idle []string
	rows, err := r.pool.Query(ctx, `SELECT pid::text || ' ' || coalesce(query, '') FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()
			AND state LIKE 'idle in transaction%' AND backend_xid IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(idle) > 0 {
		t.Errorf("during the send, sessions idle in a transaction with an xid: %q", idle)
	}

	paid := invoiceEvent(inv, notification.InvoicePaid, 5, `,"total":12000,"amount_paid":12000,"paid_at":"2026-12-02T10:00:00Z"`)
	other := invoiceEvent(uuid.NewString(), notification.InvoicePaymentRecorded, 2, `,"amount":100,"amount_due":900`)
	other.TenantID = "globex"
	type result struct {
		fresh int
		err   error
	}
	done := make(chan result, 1)
	go func() {
		fresh, err := r.in.Handle(ctx, []notification.Event{paid, other})
		done <- result{fresh, err}
	}()
	// The rig's send timeout is 30s: a batch that waited for the send
	// would still be waiting here.
	select {
	case res := <-done:
		if res.err != nil || res.fresh != 2 {
			t.Fatalf("the batch: %d fresh, %v", res.fresh, res.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the batch with the paid event waits for the reminder's send")
	}
	if s := r.state(t, inv); s != notification.ReminderClosed {
		t.Errorf("state %s while the send is held, want closed", s)
	}

	r.mail.Release()
	waitFor(t, "reminder 1 recorded as sent", func() bool {
		procs, err := r.q.Reminders(ctx, inv, 1)
		if err != nil {
			t.Fatal(err)
		}
		return procs[0].Sent == 1
	})
	// Step 2's task was cancelled with the process; run it anyway, as a
	// task whose cancellation lost a race would run: it must find the
	// process closed.
	if _, err := r.pool.Exec(ctx, `UPDATE notification.river_job SET state = 'available', scheduled_at = now(), finalized_at = NULL
		WHERE kind = 'notification.reminder' AND args->>'invoice_id' = $1 AND (args->>'step')::int = 2`, inv); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "step 2's task done", func() bool {
		var state string
		err := r.pool.QueryRow(ctx, `SELECT state FROM notification.river_job
			WHERE kind = 'notification.reminder' AND args->>'invoice_id' = $1 AND (args->>'step')::int = 2`, inv).Scan(&state)
		if err != nil {
			t.Fatal(err)
		}
		return state == "completed"
	})
	got := r.reminders()
	if _, ok := got[fmt.Sprintf("<%s.reminder-1@example.com>", overdue.ID)]; !ok || len(got) != 1 {
		t.Errorf("reminders %v, want reminder 1 alone", ids(got))
	}
	procs, err := r.q.Reminders(ctx, inv, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p := procs[0]; p.State != string(notification.ReminderClosed) || p.Sent != 1 || p.NextStep != 0 {
		t.Errorf("process %+v, want closed with reminder 1 sent and nothing next", p)
	}
}
