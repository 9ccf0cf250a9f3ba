package notification

import (
	"errors"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var overdueAt = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func fact(typ string, version, amountDue int64) ReminderFact {
	f := ReminderFact{EventID: typ + "-" + string(rune('0'+version)), Type: typ, Version: version, AmountDue: amountDue}
	if typ == InvoiceOverdue {
		f.EventID = "0e1d"
		f.Overdue = &Overdue{
			InvoiceID: "inv", Number: "INV-2026-000042", Customer: Customer{Name: "Ada", Email: "ada@example.com"},
			Currency: "EUR", DueDate: "2026-11-30", AmountDue: amountDue, OverdueAt: overdueAt,
		}
	}
	return f
}

func TestReminderProcessTransitions(t *testing.T) {
	schedule := Schedule{72 * time.Hour, 168 * time.Hour}
	for _, tc := range []struct {
		name    string
		facts   []ReminderFact
		changes []ReminderChange
		state   ReminderState
		due     int64
	}{
		{"overdue starts", []ReminderFact{fact(InvoiceOverdue, 4, 12000)}, []ReminderChange{ReminderStarted}, ReminderActive, 12000},
		{"a payment after overdue lowers the amount", []ReminderFact{fact(InvoiceOverdue, 4, 12000), fact(InvoicePaymentRecorded, 5, 2000)},
			[]ReminderChange{ReminderStarted, ReminderUpdated}, ReminderActive, 2000},
		{"paid ends", []ReminderFact{fact(InvoiceOverdue, 4, 12000), fact(InvoicePaid, 6, 0)},
			[]ReminderChange{ReminderStarted, ReminderEnded}, ReminderClosed, 12000},
		{"voided ends", []ReminderFact{fact(InvoiceOverdue, 4, 12000), fact(InvoiceVoided, 5, 0)},
			[]ReminderChange{ReminderStarted, ReminderEnded}, ReminderClosed, 12000},
		{"written off ends", []ReminderFact{fact(InvoiceOverdue, 4, 12000), fact(InvoiceMarkedUncollectible, 5, 0)},
			[]ReminderChange{ReminderStarted, ReminderEnded}, ReminderClosed, 12000},
		{"a credit to nothing ends", []ReminderFact{fact(InvoiceOverdue, 4, 12000), fact(InvoiceCredited, 5, 0)},
			[]ReminderChange{ReminderStarted, ReminderEnded}, ReminderClosed, 12000},
		{"a partial credit lowers the amount", []ReminderFact{fact(InvoiceOverdue, 4, 12000), fact(InvoiceCredited, 5, 9000)},
			[]ReminderChange{ReminderStarted, ReminderUpdated}, ReminderActive, 9000},
		{"paid redelivered before overdue: overdue is older, ignored", []ReminderFact{fact(InvoicePaid, 6, 0), fact(InvoiceOverdue, 4, 12000)},
			[]ReminderChange{ReminderUpdated, ReminderIgnored}, ReminderClosed, 0},
		{"a redelivered overdue starts no second series", []ReminderFact{fact(InvoiceOverdue, 4, 12000), fact(InvoiceOverdue, 4, 12000)},
			[]ReminderChange{ReminderStarted, ReminderIgnored}, ReminderActive, 12000},
		{"an older payment after overdue changes nothing", []ReminderFact{fact(InvoiceOverdue, 4, 2000), fact(InvoicePaymentRecorded, 3, 7000)},
			[]ReminderChange{ReminderStarted, ReminderIgnored}, ReminderActive, 2000},
		{"a newer payment before overdue wins over its amount", []ReminderFact{fact(InvoicePaymentRecorded, 5, 2000), fact(InvoiceOverdue, 4, 12000)},
			[]ReminderChange{ReminderUpdated, ReminderStarted}, ReminderActive, 2000},
		{"written off before overdue: no reminders", []ReminderFact{fact(InvoiceMarkedUncollectible, 3, 0), fact(InvoiceOverdue, 4, 12000)},
			[]ReminderChange{ReminderUpdated, ReminderUpdated}, ReminderClosed, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewReminderProcess("acme", "inv")
			for i, f := range tc.facts {
				if got := p.Apply(f, schedule); got != tc.changes[i] {
					t.Errorf("fact %d (%s v%d): change %d, want %d", i, f.Type, f.Version, got, tc.changes[i])
				}
			}
			if p.State() != tc.state || p.AmountDue() != tc.due {
				t.Errorf("state %s, amount due %d; want %s, %d", p.State(), p.AmountDue(), tc.state, tc.due)
			}
		})
	}
}

func TestReminderEmailsNameTheAmountStillDue(t *testing.T) {
	p := NewReminderProcess("acme", "inv")
	p.Apply(fact(InvoiceOverdue, 4, 12000), Schedule{time.Hour, 2 * time.Hour})
	if steps := p.Steps(); len(steps) != 2 || !steps[0].At.Equal(overdueAt.Add(time.Hour)) || steps[1].N != 2 {
		t.Fatalf("steps %v", steps)
	}
	p.Apply(fact(InvoicePaymentRecorded, 5, 2050), nil)
	e, ok, err := p.Reminder(1)
	if err != nil || !ok {
		t.Fatalf("reminder 1: %v %v", ok, err)
	}
	for _, want := range []string{"EUR 20.50", "INV-2026-000042", "2026-11-30"} {
		if !strings.Contains(e.Text, want) || !strings.Contains(e.HTML, want) {
			t.Errorf("the reminder lacks %q:\n%s\n%s", want, e.Text, e.HTML)
		}
	}
	if got := e.MessageID("example.com"); got != "<0e1d.reminder-1@example.com>" {
		t.Errorf("Message-ID %s", got)
	}
	if err := p.MarkSent(1); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := p.Reminder(1); ok {
		t.Error("reminder 1 would go out twice")
	}
	if err := p.MarkSent(1); err == nil {
		t.Error("MarkSent(1) twice succeeded")
	}
	if n, ok := p.Next(); !ok || n.N != 2 {
		t.Errorf("next %v %v, want step 2", n, ok)
	}
	if err := p.MarkSent(2); err != nil || p.State() != ReminderExhausted {
		t.Errorf("after the last: %v, state %s", err, p.State())
	}
	if p.Apply(fact(InvoicePaid, 6, 0), nil) != ReminderUpdated || p.State() != ReminderClosed {
		t.Errorf("an exhausted process is not closed by paid: %s", p.State())
	}
}

func TestReminderProcessSurvivesTheStore(t *testing.T) {
	p := NewReminderProcess("acme", "inv")
	p.Apply(fact(InvoiceOverdue, 4, 12000), Schedule{time.Hour, 2 * time.Hour})
	p.SetJobs([]int64{7, 8})
	if err := p.MarkSent(1); err != nil {
		t.Fatal(err)
	}
	q, err := RehydrateReminder(p.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := q.Next(); !ok || n.N != 2 || q.Version() != 4 || len(q.Jobs()) != 2 {
		t.Errorf("rehydrated: next %v %v, version %d, jobs %v", n, ok, q.Version(), q.Jobs())
	}
	s := p.Snapshot()
	s.Sent = s.Sent[:1]
	if _, err := RehydrateReminder(s); err == nil {
		t.Error("due and sent of different lengths rehydrated")
	}
}

func TestParseSchedule(t *testing.T) {
	for in, want := range map[string]string{"3d,7d,14d": "3d,7d,14d", " 2s, 4s ": "2s,4s", "": "none", "none": "none", "36h,3d": "36h0m0s,3d"} {
		s, err := ParseSchedule(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseSchedule(%q) = %v, %v; want %s", in, s, err, want)
		}
	}
	for _, in := range []string{"3d,2d", "0s", "-1s", "3x", "d", "4000d", "1s,,2s"} {
		if _, err := ParseSchedule(in); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", in)
		}
	}
}

func TestFactOfNeedsTheFieldsItKeeps(t *testing.T) {
	for _, tc := range []struct{ typ, data string }{
		{InvoicePaymentRecorded, `{"amount": 100}`},
		{InvoiceOverdue, `{"number": "INV-1", "amount_due": 100}`},
		{InvoiceCredited, `[`},
	} {
		_, _, err := FactOf(Event{ID: "e", Type: tc.typ, InvoiceVersion: 3, Data: []byte(tc.data)})
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s %s: %v, want ErrMalformed", tc.typ, tc.data, err)
		}
	}
	if _, ok, err := FactOf(Event{ID: "e", Type: InvoicePaid, Data: []byte(`{}`)}); ok || !errors.Is(err, ErrMalformed) {
		t.Errorf("an event without invoiceversion: %v %v", ok, err)
	}
	if _, ok, err := FactOf(Event{ID: "e", Type: InvoiceIssued, InvoiceVersion: 2}); ok || err != nil {
		t.Errorf("issued is not a reminder's business: %v %v", ok, err)
	}
}

// TestReminderNeverAfterTheEnd: whatever order the events of an overdue
// invoice arrive in, however often each, with the reminders' timers firing
// anywhere in between, no reminder goes out once the invoice's end was
// applied, the overdue event starts at most one series, and the process
// ends where the events in order lead.
func TestReminderNeverAfterTheEnd(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// The invoice's history: payments, overdue at some version, more
		// payments, and perhaps an end.
		due := int64(rapid.IntRange(1000, 100000).Draw(t, "total"))
		var history []ReminderFact
		v := int64(2) // issued
		overdueIdx := rapid.IntRange(0, 3).Draw(t, "payments before overdue")
		for i := range overdueIdx + rapid.IntRange(0, 3).Draw(t, "payments after") + 1 {
			v++
			if i == overdueIdx {
				history = append(history, fact(InvoiceOverdue, v, due))
				continue
			}
			if due > 1 { // a payment leaves something due: paying it all is an end
				due -= int64(rapid.IntRange(1, int(due-1)).Draw(t, "payment"))
			}
			history = append(history, fact(InvoicePaymentRecorded, v, due))
		}
		ends := []string{"", InvoicePaid, InvoiceVoided, InvoiceMarkedUncollectible, InvoiceCredited}
		if end := rapid.SampledFrom(ends).Draw(t, "end"); end != "" {
			v++
			history = append(history, fact(end, v, 0))
		}
		schedule := Schedule{time.Hour, 2 * time.Hour, 3 * time.Hour}

		inOrder := NewReminderProcess("acme", "inv")
		for _, f := range history {
			inOrder.Apply(f, schedule)
		}

		// Deliveries: a permutation of the history with repetitions,
		// timers firing in between.
		deliveries := rapid.SliceOfN(rapid.IntRange(0, len(history)-1), len(history), 3*len(history)).Draw(t, "deliveries")
		for i := range history { // every event at least once
			deliveries = append(deliveries, i)
		}
		deliveries = rapid.Permutation(deliveries).Draw(t, "order")
		p := NewReminderProcess("acme", "inv")
		started, ended := 0, false
		for _, i := range deliveries {
			switch p.Apply(history[i], schedule) {
			case ReminderStarted:
				started++
			case ReminderEnded:
				ended = true
			}
			ended = ended || p.State() == ReminderClosed
			n := rapid.IntRange(0, 4).Draw(t, "timer")
			e, ok, err := p.Reminder(n)
			if err != nil {
				t.Fatal(err)
			}
			if ok && ended {
				t.Fatalf("reminder %d would go out after the end: %s", n, e.Subject)
			}
			if ok {
				if err := p.MarkSent(n); err != nil {
					t.Fatal(err)
				}
			}
		}
		if started > 1 {
			t.Fatalf("%d series started", started)
		}
		if p.Version() != inOrder.Version() || (p.State() == ReminderClosed) != (inOrder.State() == ReminderClosed) {
			t.Fatalf("ends at v%d %s, in order v%d %s", p.Version(), p.State(), inOrder.Version(), inOrder.State())
		}
		if p.State() != ReminderClosed && (p.AmountDue() != inOrder.AmountDue() || p.State() == ReminderPending) {
			t.Fatalf("amount due %d, state %s; in order %d, %s", p.AmountDue(), p.State(), inOrder.AmountDue(), inOrder.State())
		}
	})
}
