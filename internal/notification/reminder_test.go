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
	e, ok, err := p.Claim(1)
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
	if _, ok, _ := p.Claim(1); ok {
		t.Error("reminder 1 would go out twice")
	}
	if err := p.MarkSent(1); err == nil {
		t.Error("MarkSent(1) twice succeeded")
	}
	if n, ok := p.Next(); !ok || n.N != 2 {
		t.Errorf("next %v %v, want step 2", n, ok)
	}
	if err := p.MarkSent(2); err == nil {
		t.Error("reminder 2 recorded sent without being claimed")
	}
	if _, ok, err := p.Claim(2); !ok || err != nil {
		t.Fatalf("reminder 2: %v %v", ok, err)
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
	p.Apply(fact(InvoiceOverdue, 4, 12000), Schedule{time.Hour, 2 * time.Hour, 3 * time.Hour})
	if err := p.SetJobs([]int64{7, 8}); err == nil {
		t.Error("two tasks for three steps accepted")
	}
	if err := p.SetJobs([]int64{7, 8, 9}); err != nil {
		t.Fatal(err)
	}
	claim(t, p, 1)
	if err := p.MarkSent(1); err != nil {
		t.Fatal(err)
	}
	claim(t, p, 2)
	q, err := RehydrateReminder(p.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := q.Next(); !ok || n.N != 2 || q.Version() != 4 || len(q.Jobs()) != 3 {
		t.Errorf("rehydrated: next %v %v, version %d, jobs %v", n, ok, q.Version(), q.Jobs())
	}
	if err := q.MarkSent(2); err != nil {
		t.Errorf("reminder 2 in flight before the store, not after: %v", err)
	}
	old := p.Snapshot()
	old.Sending = nil // a row from before reminders were claimed
	if q, err := RehydrateReminder(old); err != nil || q.MarkSent(2) == nil {
		t.Errorf("a row without in-flight reminders: %v, or reminder 2 in flight", err)
	}
	for name, breakIt := range map[string]func(*ReminderSnapshot){
		"due and sent of different lengths": func(s *ReminderSnapshot) { s.Sent = s.Sent[:1] },
		"sending of another length":         func(s *ReminderSnapshot) { s.Sending = s.Sending[:2] },
		"a reminder sent and in flight":     func(s *ReminderSnapshot) { s.Sending[0] = true },
		"a task missing":                    func(s *ReminderSnapshot) { s.Jobs = s.Jobs[:2] },
	} {
		s := p.Snapshot()
		breakIt(&s)
		if _, err := RehydrateReminder(s); err == nil {
			t.Errorf("%s rehydrated", name)
		}
	}
}

// claim claims reminder n of p, or fails the test.
func claim(t *testing.T, p *ReminderProcess, n int) Email {
	t.Helper()
	e, ok, err := p.Claim(n)
	if err != nil || !ok {
		t.Fatalf("claim reminder %d: %v %v (state %s)", n, ok, err, p.State())
	}
	return e
}

// TestReminderInFlight: a reminder claimed and not recorded yet, when an
// end arrives, a sender dies or the step is the last.
func TestReminderInFlight(t *testing.T) {
	schedule := Schedule{time.Hour, 2 * time.Hour, 3 * time.Hour}
	start := func(t *testing.T) *ReminderProcess {
		p := NewReminderProcess("acme", "inv")
		if p.Apply(fact(InvoiceOverdue, 4, 12000), schedule) != ReminderStarted {
			t.Fatal("not started")
		}
		if err := p.SetJobs([]int64{7, 8, 9}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("an end while in flight closes; the send is recorded, nothing more starts", func(t *testing.T) {
		p := start(t)
		claim(t, p, 1)
		if err := p.MarkSent(1); err != nil {
			t.Fatal(err)
		}
		claim(t, p, 2)
		if got := p.Apply(fact(InvoicePaid, 5, 0), nil); got != ReminderEnded || p.State() != ReminderClosed {
			t.Fatalf("paid in flight: change %d, state %s", got, p.State())
		}
		if got := p.JobsToCancel(); len(got) != 1 || got[0] != 9 {
			t.Errorf("tasks to cancel %v, want [9]: not the one sending, not the one sent", got)
		}
		for n := 1; n <= 3; n++ {
			if _, ok, _ := p.Claim(n); ok {
				t.Errorf("reminder %d claimed after the end", n)
			}
		}
		if err := p.MarkSent(2); err != nil {
			t.Errorf("the reminder in flight at the end not recorded: %v", err)
		}
		if p.State() != ReminderClosed || !p.Sent()[1] {
			t.Errorf("state %s, sent %v; want closed with reminder 2 sent", p.State(), p.Sent())
		}
		if _, ok := p.Next(); ok {
			t.Error("a closed process has a next reminder")
		}
	})
	t.Run("a sender that died is retried while active, with the same Message-ID", func(t *testing.T) {
		p := start(t)
		first := claim(t, p, 1)
		again := claim(t, p, 1)
		if first.MessageID("example.com") != again.MessageID("example.com") {
			t.Errorf("Message-IDs %s and %s", first.MessageID("example.com"), again.MessageID("example.com"))
		}
		if err := p.MarkSent(1); err != nil {
			t.Fatal(err)
		}
		if err := p.MarkSent(1); err == nil {
			t.Error("reminder 1 recorded twice")
		}
	})
	t.Run("a sender that died is not retried once closed", func(t *testing.T) {
		p := start(t)
		claim(t, p, 1)
		p.Apply(fact(InvoiceVoided, 5, 0), nil)
		if _, ok, _ := p.Claim(1); ok {
			t.Error("reminder 1 sent again after the end")
		}
	})
	t.Run("the last reminder in flight exhausts when recorded, unless closed first", func(t *testing.T) {
		p := start(t)
		for n := 1; n <= 3; n++ {
			claim(t, p, n)
		}
		for n := 1; n <= 3; n++ {
			if p.State() != ReminderActive {
				t.Fatalf("state %s with reminder %d in flight", p.State(), n)
			}
			if err := p.MarkSent(n); err != nil {
				t.Fatal(err)
			}
		}
		if p.State() != ReminderExhausted {
			t.Errorf("state %s, want exhausted", p.State())
		}
		q := start(t)
		claim(t, q, 3)
		q.Apply(fact(InvoiceMarkedUncollectible, 5, 0), nil)
		if err := q.MarkSent(3); err != nil || q.State() != ReminderClosed {
			t.Errorf("closed with the last in flight: %v, state %s", err, q.State())
		}
	})
	t.Run("a reminder given up is neither in flight nor to come, and is never claimed again", func(t *testing.T) {
		p := start(t)
		claim(t, p, 1)
		if err := p.GiveUp(1); err != nil {
			t.Fatal(err)
		}
		if next, ok := p.Next(); !ok || next.N != 2 || p.State() != ReminderActive {
			t.Errorf("next %v %t, state %s; want reminder 2 next, active", next, ok, p.State())
		}
		if _, ok, _ := p.Claim(1); ok {
			t.Error("reminder 1 claimed again after it was given up")
		}
		if err := p.MarkSent(1); err == nil {
			t.Error("reminder 1 recorded sent after it was given up")
		}
		if got := p.JobsToCancel(); len(got) != 2 || got[0] != 8 || got[1] != 9 {
			t.Errorf("tasks to cancel %v, want [8 9]", got)
		}
		claim(t, p, 2)
		if err := p.MarkSent(2); err != nil {
			t.Fatal(err)
		}
		claim(t, p, 3)
		if err := p.GiveUp(3); err != nil {
			t.Fatal(err)
		}
		if p.State() != ReminderExhausted {
			t.Errorf("state %s after the last reminder was given up, want exhausted", p.State())
		}
		if err := p.GiveUp(2); err == nil {
			t.Error("a reminder not in flight was given up")
		}
		back, err := RehydrateReminder(p.Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		if got := back.GivenUp(); len(got) != 3 || !got[0] || got[1] || !got[2] {
			t.Errorf("given up after the store %v, want [true false true]", got)
		}
	})
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
// invoice arrive in, however often each, with the reminders' tasks
// claiming, recording and dying anywhere in between, no reminder is
// claimed once the invoice's end was applied, a reminder in flight is
// always recorded, none is recorded twice, the overdue event starts at
// most one series, and the process ends where the events in order lead.
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
		inFlight := map[int]bool{}     // claimed by a task still alive
		recorded := map[int]bool{}     // recorded sent
		claimedAfter := map[int]bool{} // claimed before the end
		for _, i := range deliveries {
			switch p.Apply(history[i], schedule) {
			case ReminderStarted:
				started++
			case ReminderEnded:
				ended = true
			}
			ended = ended || p.State() == ReminderClosed
			n := rapid.IntRange(0, 4).Draw(t, "step")
			switch rapid.SampledFrom([]string{"claim", "record", "die"}).Draw(t, "task") {
			case "claim":
				e, ok, err := p.Claim(n)
				if err != nil {
					t.Fatal(err)
				}
				if ok && ended {
					t.Fatalf("reminder %d claimed after the end: %s", n, e.Subject)
				}
				if ok && recorded[n] {
					t.Fatalf("reminder %d claimed after it was recorded", n)
				}
				if ok {
					inFlight[n], claimedAfter[n] = true, !ended
				}
			case "record":
				if _, claimed := claimedAfter[n]; !claimed && p.MarkSent(n) == nil {
					t.Fatalf("reminder %d recorded without a claim", n)
				}
				if !inFlight[n] {
					continue // a task that died records nothing
				}
				if err := p.MarkSent(n); err != nil {
					t.Fatalf("reminder %d in flight not recorded: %v", n, err)
				}
				inFlight[n], recorded[n] = false, true
			case "die": // the task's retry claims again
				inFlight[n] = false
			}
		}
		for n := range inFlight { // the sends still going end
			if inFlight[n] {
				if err := p.MarkSent(n); err != nil {
					t.Fatalf("reminder %d in flight at the end not recorded: %v", n, err)
				}
				recorded[n] = true
			}
		}
		for n, sent := range p.Sent() {
			if sent != recorded[n+1] || (sent && !claimedAfter[n+1]) {
				t.Fatalf("reminder %d sent %v, recorded %v, claimed before the end %v", n+1, sent, recorded[n+1], claimedAfter[n+1])
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
