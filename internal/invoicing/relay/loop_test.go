package relay_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// These tests run the relay's loop on the fakes of fakes_test.go inside a
// synctest bubble: advance moves the bubble's clock at once, and
// synctest.Wait returns when the relay is idle, so they need neither
// PostgreSQL nor NATS and run under -short. The tests on the real outbox
// and broker check the same behaviours end to end.

// advance moves the bubble's clock d on, firing the relay's timers due
// meanwhile, and returns once the relay is idle again. Inside a bubble a
// sleep takes no real time.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// fakeRelay is a relay over the fakes, running until stop.
type fakeRelay struct {
	*relay.Relay
	outbox *memOutbox
	broker *memBroker
	done   chan error
	cancel context.CancelFunc
}

// startFake starts a relay with cfg over a fresh outbox and broker, whose
// events prepare adds first. Call it inside a bubble; stop it before the
// bubble ends.
func startFake(t *testing.T, cfg relay.Config, prepare func(o *memOutbox, b *memBroker, r *relay.Relay)) *fakeRelay {
	t.Helper()
	f := &fakeRelay{outbox: newMemOutbox(), broker: newMemBroker(), done: make(chan error, 1)}
	r, err := relay.New(f.outbox, soloLeadership{}, f.broker, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f.Relay = r
	if prepare != nil {
		prepare(f.outbox, f.broker, r)
	}
	var ctx context.Context
	ctx, f.cancel = context.WithCancel(context.Background())
	go func() { f.done <- r.Run(ctx) }()
	return f
}

// stop cancels Run and fails the test unless it returns nil.
func (f *fakeRelay) stop(t *testing.T) {
	t.Helper()
	f.cancel()
	if err := <-f.done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// returned reports whether Run returned (with nil, else the test fails).
// Call it after synctest.Wait.
func (f *fakeRelay) returned(t *testing.T) bool {
	t.Helper()
	select {
	case err := <-f.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		f.done <- nil // stop reads it again
		return true
	default:
		return false
	}
}

// storedIDs returns the ids of the messages the broker stored, in order.
func (f *fakeRelay) storedIDs() []string {
	var ids []string
	for _, m := range f.broker.messages() {
		ids = append(ids, m.ID)
	}
	return ids
}

// before reports whether the broker stored event seq a before event seq b
// (and both).
func (f *fakeRelay) before(a, b int64) bool {
	ia, ib := -1, -1
	for i, id := range f.storedIDs() {
		switch id {
		case f.outbox.row(a).ID.String():
			ia = i
		case f.outbox.row(b).ID.String():
			ib = i
		}
	}
	return ia >= 0 && ib > ia
}

func newTenantAndInvoices(n int) (kernel.TenantID, []invoice.ID) {
	ids := make([]invoice.ID, n)
	for i := range ids {
		ids[i] = invoice.ID(uuid.New())
	}
	return kernel.TenantID(uuid.New()), ids
}

// Every event is stored once, as a CloudEvent on its type's subject, each
// invoice's in version order although batches of 4 mix three invoices; and
// every record is marked published.
func TestFakeRelayPublishesEachInvoiceInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tenant, invs := newTenantAndInvoices(3)
		f := startFake(t, relay.Config{BatchSize: 4, PollInterval: time.Minute}, func(o *memOutbox, _ *memBroker, _ *relay.Relay) {
			for i := range 30 {
				o.add(tenant, invs[i%3], "invoice.line_added")
			}
		})
		defer f.stop(t)
		synctest.Wait()

		msgs := f.broker.messages()
		if len(msgs) != 30 {
			t.Fatalf("broker stored %d messages, want 30", len(msgs))
		}
		last := map[uuid.UUID]int64{}
		for _, m := range msgs {
			var rec memRow
			for seq := int64(1); seq <= 30; seq++ {
				if r := f.outbox.row(seq); r.ID.String() == m.ID {
					rec = r
				}
			}
			if m.Subject != "invoicing.invoice.line_added" || rec.Sequence == 0 {
				t.Fatalf("message %s on %q: want one of the outbox's events on invoicing.invoice.line_added", m.ID, m.Subject)
			}
			if rec.Version != last[rec.AggregateID]+1 {
				t.Errorf("invoice %s: version %d stored after %d", rec.AggregateID, rec.Version, last[rec.AggregateID])
			}
			last[rec.AggregateID] = rec.Version
		}
		if left := f.outbox.unpublished(); len(left) != 0 {
			t.Errorf("records %v not marked published", left)
		}
	})
}

// While the broker is unavailable the relay retries after a capped
// exponential backoff (with jitter: between half and all of BackoffMin·2^(n-1),
// at most BackoffMax), counting no attempt against the record; a reconnect
// ends the wait at once.
func TestFakeRelayBacksOffWhileTheBrokerIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lo, hi = 100 * time.Millisecond, 1600 * time.Millisecond
		down := fmt.Errorf("%w: connection refused", relay.ErrUnavailable)
		tenant, invs := newTenantAndInvoices(1)
		f := startFake(t, relay.Config{BackoffMin: lo, BackoffMax: hi, PollInterval: time.Minute},
			func(o *memOutbox, b *memBroker, _ *relay.Relay) {
				o.add(tenant, invs[0], "invoice.created")
				b.answerWith(func(relay.Message) error { return down })
			})
		defer f.stop(t)
		advance(20 * time.Second)

		calls := f.broker.publishCalls()
		if len(calls) < 10 {
			t.Fatalf("%d publishes in 20 s of outage, want at least 10", len(calls))
		}
		for k := 1; k < len(calls); k++ {
			want := min(lo<<(k-1), hi)
			if gap := calls[k].Sub(calls[k-1]); gap < want/2 || gap > want {
				t.Errorf("wait %d after %d failures = %s, want %s..%s", k, k, gap, want/2, want)
			}
		}
		if r := f.outbox.row(1); r.Attempts != 0 || !r.retryAt.IsZero() {
			t.Errorf("an outage counted against the record: %d attempts, retry at %v", r.Attempts, r.retryAt)
		}

		// Back: the relay learns of it from Reconnected, not at its next
		// backoff, which is up to hi away.
		f.broker.answerWith(nil)
		start := time.Now()
		f.broker.reconned <- struct{}{}
		synctest.Wait()
		if len(f.broker.messages()) != 1 || len(f.outbox.unpublished()) != 0 {
			t.Fatalf("after the reconnect: %d stored, %v unpublished; want the event stored and marked", len(f.broker.messages()), f.outbox.unpublished())
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("published %s after the reconnect, want at once", took)
		}
	})
}

// A rejected event is retried after its own backoff, counting attempts;
// its invoice's later events wait for it, other invoices' do not; after
// MaxAttempts rejections, or one ErrTooLarge, it is parked and its
// invoice's later events stay behind it.
func TestFakeRelayRetriesThenParksARejectedEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tenant, invs := newTenantAndInvoices(3)
		var flaky, bad, big string
		rejectedFlaky := 0
		f := startFake(t, relay.Config{MaxAttempts: 3, BackoffMin: time.Second, BackoffMax: 4 * time.Second, PollInterval: 100 * time.Millisecond},
			func(o *memOutbox, b *memBroker, _ *relay.Relay) {
				flaky = o.row(o.add(tenant, invs[0], "invoice.created")).ID.String() // 1
				o.add(tenant, invs[1], "invoice.created")                            // 2
				o.add(tenant, invs[0], "invoice.issued")                             // 3
				bad = o.row(o.add(tenant, invs[2], "invoice.created")).ID.String()   // 4
				o.add(tenant, invs[2], "invoice.issued")                             // 5
				big = o.row(o.add(tenant, invs[1], "invoice.issued")).ID.String()    // 6
				o.add(tenant, invs[1], "invoice.paid")                               // 7
				b.answerWith(func(m relay.Message) error {
					switch {
					case m.ID == flaky && rejectedFlaky < 2:
						rejectedFlaky++
						return errors.New("nats: no response from stream")
					case m.ID == bad:
						return errors.New("nats: no stream matches subject")
					case m.ID == big:
						return fmt.Errorf("%w: 2 MB", relay.ErrTooLarge)
					}
					return nil
				})
			})
		defer f.stop(t)
		synctest.Wait()
		if r := f.outbox.row(1); r.Attempts != 1 || r.retryAt.IsZero() || r.parked {
			t.Errorf("after one rejection: %d attempts, retry at %v, parked %v; want 1, a retry time, not parked", r.Attempts, r.retryAt, r.parked)
		}
		if len(f.storedIDs()) != 1 || f.storedIDs()[0] != f.outbox.row(2).ID.String() {
			t.Errorf("stored %v at first, want only the other invoice's event 2", f.storedIDs())
		}

		advance(time.Minute)
		if r := f.outbox.row(1); r.Attempts != 2 || !r.publishedAt.After(r.OccurredAt) {
			t.Errorf("flaky event: %d attempts, published %v; want 2 rejections and then published", r.Attempts, r.publishedAt)
		}
		if !f.before(1, 3) {
			t.Errorf("event 3 was not stored after its invoice's event 1: %v", f.storedIDs())
		}
		for _, tt := range []struct {
			seq      int64
			attempts int
		}{{4, 3}, {6, 1}} {
			if r := f.outbox.row(tt.seq); !r.parked || r.Attempts != tt.attempts || !r.publishedAt.IsZero() {
				t.Errorf("event %d: parked %v after %d attempts (published %v), want parked after %d",
					tt.seq, r.parked, r.Attempts, r.publishedAt, tt.attempts)
			}
		}
		if got, want := f.outbox.unpublished(), []int64{4, 5, 6, 7}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("unpublished %v, want %v: the parked events and their invoices' later ones", got, want)
		}
	})
}

// A record the relay does not send because an earlier record of its
// invoice was not stored is reported Behind, so that a store that moves its
// position past unsent records can keep it back with its invoice; and the
// failures of a batch reach the store before its acknowledged records are
// marked, so that the store knows where every record it passes went.
func TestFakeRelayReportsWhatItLeavesBehindBeforeMarking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tenant, invs := newTenantAndInvoices(2)
		f := startFake(t, relay.Config{BackoffMin: time.Hour, BackoffMax: time.Hour, PollInterval: time.Minute},
			func(o *memOutbox, b *memBroker, _ *relay.Relay) {
				rejected := o.row(o.add(tenant, invs[0], "invoice.created")).ID.String() // 1
				o.add(tenant, invs[1], "invoice.created")                                // 2
				o.add(tenant, invs[0], "invoice.issued")                                 // 3
				b.answerWith(func(m relay.Message) error {
					if m.ID == rejected {
						return errors.New("nats: no stream matches subject")
					}
					return nil
				})
			})
		defer f.stop(t)
		synctest.Wait()
		f.outbox.mu.Lock()
		behind, calls := slices.Clone(f.outbox.behind), slices.Clone(f.outbox.calls)
		f.outbox.mu.Unlock()
		if !slices.Equal(behind, []int64{3}) {
			t.Errorf("records reported behind = %v, want [3] (its invoice's event 1 was rejected)", behind)
		}
		if len(calls) < 2 || calls[0] != "failures" || calls[1] != "mark" {
			t.Errorf("store calls = %v, want the failures recorded before the batch is marked", calls)
		}
	})
}

// Drain publishes every pending record, across batches, then Run returns
// nil on its own; with the broker down it returns without them, and they
// wait in the outbox.
func TestFakeRelayDrainPublishesThePendingAndReturns(t *testing.T) {
	for _, brokerUp := range []bool{true, false} {
		t.Run(fmt.Sprintf("broker up %v", brokerUp), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tenant, invs := newTenantAndInvoices(5)
				f := startFake(t, relay.Config{BatchSize: 10, PollInterval: time.Hour, BackoffMin: time.Second},
					func(o *memOutbox, b *memBroker, r *relay.Relay) {
						for i := range 25 {
							o.add(tenant, invs[i%5], "invoice.line_added")
						}
						if !brokerUp {
							b.answerWith(func(relay.Message) error { return relay.ErrUnavailable })
						}
						r.Drain()
					})
				defer f.stop(t)
				synctest.Wait()
				if !f.returned(t) {
					t.Fatal("Run did not return after Drain")
				}
				wantLeft := 0
				if !brokerUp {
					wantLeft = 25
				}
				if left := f.outbox.unpublished(); len(left) != wantLeft {
					t.Errorf("%d records left unpublished, want %d", len(left), wantLeft)
				}
			})
		})
	}
}

// Wake moves an event committed while the relay idles at once; without it,
// the event waits for the next poll.
func TestFakeRelayWakeSkipsThePoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tenant, invs := newTenantAndInvoices(1)
		f := startFake(t, relay.Config{PollInterval: time.Hour}, nil)
		defer f.stop(t)
		synctest.Wait()

		f.outbox.add(tenant, invs[0], "invoice.created")
		f.Wake()
		synctest.Wait()
		if len(f.storedIDs()) != 1 {
			t.Fatalf("after Wake, %d stored, want 1 at once", len(f.storedIDs()))
		}

		f.outbox.add(tenant, invs[0], "invoice.issued")
		advance(59 * time.Minute)
		if len(f.storedIDs()) != 1 {
			t.Fatalf("without Wake, the event was stored before the poll")
		}
		advance(time.Minute)
		if len(f.storedIDs()) != 2 || len(f.outbox.unpublished()) != 0 {
			t.Errorf("after the poll: %d stored, %v unpublished; want both stored and marked", len(f.storedIDs()), f.outbox.unpublished())
		}
	})
}

// A store whose records wait for an older transaction has the relay look
// again within milliseconds, since that transaction's end may wake nobody;
// one that only cannot record published records yet gets a read now and
// then: they are delivered, and reading every few milliseconds for their
// record would only take CPU from the payments.
func TestFakeRelayLooksAgainSoonOnlyForUnreadRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startFake(t, relay.Config{PollInterval: time.Hour}, func(o *memOutbox, _ *memBroker, _ *relay.Relay) {
			o.lag = relay.Lag{Unrecorded: true}
		})
		defer f.stop(t)
		synctest.Wait()
		reads := func() int {
			f.outbox.mu.Lock()
			defer f.outbox.mu.Unlock()
			return f.outbox.reads
		}
		before := reads()
		advance(time.Second)
		if n := reads() - before; n < 1 || n > 10 {
			t.Errorf("with records unrecorded only, %d reads in a second, want one to ten", n)
		}

		f.outbox.mu.Lock()
		f.outbox.lag = relay.Lag{Unread: true}
		f.outbox.mu.Unlock()
		f.Wake()
		synctest.Wait()
		before = reads()
		advance(time.Second)
		if n := reads() - before; n < 20 {
			t.Errorf("with records unread, %d reads in a second, want them looked for again within milliseconds", n)
		}
	})
}

// A drain does not end while the store says records wait for an older
// transaction, unread or unrecorded: it ends once they no longer do.
func TestFakeRelayDrainWaitsForWhatLags(t *testing.T) {
	for _, lag := range []relay.Lag{{Unread: true}, {Unrecorded: true}} {
		t.Run(fmt.Sprintf("%+v", lag), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := startFake(t, relay.Config{PollInterval: time.Hour}, func(o *memOutbox, _ *memBroker, r *relay.Relay) {
					o.lag = lag
					r.Drain()
				})
				defer f.stop(t)
				advance(time.Second)
				if f.returned(t) {
					t.Fatal("Run returned from Drain while the store lags")
				}
				f.outbox.mu.Lock()
				f.outbox.lag = relay.Lag{}
				f.outbox.mu.Unlock()
				advance(time.Second)
				if !f.returned(t) {
					t.Fatal("Run did not return once the store no longer lags")
				}
			})
		})
	}
}
