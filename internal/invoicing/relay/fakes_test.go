package relay_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// The fakes below stand in for the relay's ports in memory, with the
// PostgreSQL outbox's and the NATS publisher's semantics, so the relay's
// loop runs inside a testing/synctest bubble: its timers then run on the
// bubble's clock, and a test waits for the relay to settle instead of
// sleeping. They use only mutexes and channels, never the network.

var (
	_ relay.Store      = (*memOutbox)(nil)
	_ relay.Leadership = soloLeadership{}
	_ relay.Publisher  = (*memBroker)(nil)
)

// memRow is an outbox row.
type memRow struct {
	relay.Record
	publishedAt time.Time // zero: unpublished
	retryAt     time.Time // zero: no retry time
	parked      bool
	lastErr     string
}

// memOutbox is a relay.Store in memory, answering as the PostgreSQL outbox
// does.
type memOutbox struct {
	mu      sync.Mutex
	rows    []*memRow // by sequence
	reads   int       // calls of Pending
	lag     relay.Lag // what Pending reports waiting for an older transaction
	version map[invoice.ID]int64
	behind  []int64  // records reported Behind, in order
	calls   []string // "failures" and "mark", in the order the relay called them
}

func newMemOutbox() *memOutbox { return &memOutbox{version: map[invoice.ID]int64{}} }

// add commits one event of inv and returns its sequence.
func (o *memOutbox) add(tenant kernel.TenantID, inv invoice.ID, eventType string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.version[inv]++
	seq := int64(len(o.rows) + 1)
	o.rows = append(o.rows, &memRow{Record: relay.Record{EventRecord: outbox.EventRecord{
		Sequence: seq, ID: kernel.EventID(uuid.New()), Tenant: tenant, AggregateID: uuid.UUID(inv), Version: o.version[inv],
		Type: eventType, Payload: []byte(fmt.Sprintf(`{"n":%d}`, seq)), OccurredAt: time.Now().UTC(),
	}}})
	return seq
}

// Pending implements relay.Store.Pending as pendingSQL reads: unpublished
// rows in sequence order, leaving out skip, parked rows, rows waiting for
// their retry time, and every later row of an invoice with such a row.
func (o *memOutbox) Pending(_ context.Context, limit int, skip []int64) ([]relay.Record, relay.Lag, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads++
	now := time.Now()
	held := map[uuid.UUID]bool{}
	var out []relay.Record
	for _, r := range o.rows {
		if !r.publishedAt.IsZero() {
			continue
		}
		waiting := r.parked || r.retryAt.After(now)
		if !waiting && !held[r.AggregateID] && !slices.Contains(skip, r.Sequence) && len(out) < limit {
			out = append(out, r.Record)
		}
		if waiting {
			held[r.AggregateID] = true
		}
	}
	return out, o.lag, nil
}

// MarkPublished implements relay.Store.MarkPublished.
func (o *memOutbox) MarkPublished(_ context.Context, sequences []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, "mark")
	for _, r := range o.rows {
		if slices.Contains(sequences, r.Sequence) && r.publishedAt.IsZero() {
			r.publishedAt, r.retryAt, r.parked = time.Now(), time.Time{}, false
		}
	}
	return nil
}

// RecordFailures implements relay.Store.RecordFailures.
func (o *memOutbox) RecordFailures(_ context.Context, failures []relay.Failure) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, "failures")
	for _, f := range failures {
		if f.Behind {
			o.behind = append(o.behind, f.Sequence)
		}
		r := o.rows[f.Sequence-1]
		if !r.publishedAt.IsZero() || f.Behind {
			// A record left behind keeps its place: the read leaves it out
			// while its invoice has an earlier held record.
			continue
		}
		r.Attempts++
		r.lastErr, r.parked, r.retryAt = f.Err, f.Park, time.Time{}
		if !f.Park {
			r.retryAt = time.Now().Add(f.RetryAfter)
		}
	}
	return nil
}

// Prune implements relay.Store.Prune. It deletes nothing: the tests that
// use it run for less than any retention.
func (o *memOutbox) Prune(context.Context, time.Time, int) (int64, error) { return 0, nil }

// row returns a copy of the row with sequence seq.
func (o *memOutbox) row(seq int64) memRow {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *o.rows[seq-1]
}

// unpublished returns the sequences not yet marked published.
func (o *memOutbox) unpublished() []int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []int64
	for _, r := range o.rows {
		if r.publishedAt.IsZero() {
			out = append(out, r.Sequence)
		}
	}
	return out
}

// soloLeadership makes every relay the leader at once, with a lease that
// is never lost.
type soloLeadership struct{}

func (soloLeadership) TryLead(context.Context) (relay.Lease, error) { return soloLease{}, nil }

type soloLease struct{}

func (soloLease) Lost() <-chan struct{} { return nil }
func (soloLease) Release()              {}

// memBroker is a relay.Publisher in memory: it stores each message once (by
// id, as JetStream's duplicate window does) unless answer says otherwise.
type memBroker struct {
	mu       sync.Mutex
	stored   []relay.Message
	ids      map[string]bool
	calls    []time.Time // when each Publish began
	answer   func(m relay.Message) error
	reconned chan struct{}
}

func newMemBroker() *memBroker {
	return &memBroker{ids: map[string]bool{}, reconned: make(chan struct{}, 1)}
}

// answerWith makes the broker answer each message with f (nil: stored).
func (b *memBroker) answerWith(f func(relay.Message) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.answer = f
}

func (b *memBroker) Prepare(context.Context) error { return nil }

// Publish implements relay.Publisher.Publish.
func (b *memBroker) Publish(_ context.Context, msgs []relay.Message) []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, time.Now())
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		if b.answer != nil {
			if errs[i] = b.answer(m); errs[i] != nil {
				continue
			}
		}
		if !b.ids[m.ID] {
			b.ids[m.ID] = true
			b.stored = append(b.stored, m)
		}
	}
	return errs
}

func (b *memBroker) Reconnected(context.Context) <-chan struct{} { return b.reconned }

// messages returns the stored messages in the order they were stored.
func (b *memBroker) messages() []relay.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.stored)
}

// publishCalls returns when each Publish began.
func (b *memBroker) publishCalls() []time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}
