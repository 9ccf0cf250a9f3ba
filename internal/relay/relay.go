// Package relay publishes the transactional outbox: it reads committed events
// from the Store in sequence order and sends them to the Publisher (NATS
// JetStream) as CloudEvents, marking them published once the broker has
// stored them.
//
// Guarantees, and what gives them:
//   - At least once: a record is marked published only after the broker
//     acknowledged it; a crash in between re-sends it, and the broker's
//     duplicate window (keyed on the event id) keeps one copy.
//   - Per-invoice order: an event is sent only after the broker acknowledged
//     its invoice's previous event (see batch.go). This holds even if two
//     relays briefly run at once.
//   - One active relay: relays elect a leader through the Store's lease (a
//     PostgreSQL advisory lock); standbys retry every LeaderRetry. A single
//     leader sends nothing twice in normal operation.
package relay

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Relay moves committed outbox records to the broker. Create it with New and
// start it with Run; Wake may be called from any goroutine.
type Relay struct {
	store Store
	pub   Publisher
	cfg   Config
	log   *slog.Logger
	wake  chan struct{}

	drainOnce sync.Once
	drain     chan struct{} // closed by Drain
}

// New returns a relay over store and pub, cfg's zero fields defaulted. It
// returns an error if a dependency is nil or cfg is invalid.
func New(store Store, pub Publisher, cfg Config, logger *slog.Logger) (*Relay, error) {
	if store == nil || pub == nil || logger == nil {
		return nil, errors.New("relay: store, publisher and logger are required")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Relay{store: store, pub: pub, cfg: cfg, log: logger.With("component", "relay"),
		wake: make(chan struct{}, 1), drain: make(chan struct{})}, nil
}

// Wake tells the relay that new records were committed. It never blocks:
// wake-ups that arrive while one is pending merge into it, which loses
// nothing because a relay run reads every pending record. It is cheap enough
// for the repository's after-commit hook.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx is done, or until it has drained after Drain, then
// returns nil. It waits as a standby while another relay leads. It never
// gives up on its own: database and broker errors are logged and retried.
//
// Cancelling ctx stops at once: publishes in flight are abandoned (the next
// leader sends them again, and the broker drops the duplicates), but what
// the broker already acknowledged is still marked published (see bookkeep).
// Either way Run releases the leadership before it returns.
func (r *Relay) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		lease, err := r.store.TryLead(ctx)
		switch {
		case err == nil:
			r.log.Info("relay: leading")
			r.cfg.Metrics.Leading(true)
			r.lead(ctx, lease)
			lease.Release()
			r.cfg.Metrics.Leading(false)
			r.log.Info("relay: no longer leading")
		case errors.Is(err, ErrNotLeader) || ctx.Err() != nil:
		default:
			r.log.Warn("relay: cannot try for leadership", "err", err)
		}
		if !r.pause(ctx, r.cfg.LeaderRetry) {
			break
		}
	}
	return nil
}

// Drain asks Run to finish: a leader relays until no record is pending (or
// until the broker or the database fails: the records then wait for the
// next leader), marks what it sent, releases the leadership and returns; a
// standby returns at once. Drain does not wait; bound the drain by
// cancelling Run's ctx at a deadline. It may be called more than once, from
// any goroutine.
func (r *Relay) Drain() {
	r.drainOnce.Do(func() { close(r.drain) })
}

// draining reports whether Drain was called.
func (r *Relay) draining() bool {
	select {
	case <-r.drain:
		return true
	default:
		return false
	}
}

// pause waits d and reports true, or reports false at once if ctx is done or
// the relay is draining.
func (r *Relay) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-r.drain:
	}
	return false
}

// lead relays while the lease holds and ctx is live.
func (r *Relay) lead(ctx context.Context, lease Lease) {
	// Losing the lease cancels everything in flight: a relay that is no
	// longer sure it leads must stop sending at once.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Lost():
			r.log.Warn("relay: lost leadership")
			cancel()
		case <-ctx.Done():
		}
	}()

	reconnected := r.pub.Reconnected(ctx)
	failures := 0
	for ctx.Err() == nil {
		err := r.pub.Prepare(ctx)
		if err == nil || ctx.Err() != nil {
			break
		}
		failures++
		r.log.Warn("relay: broker not ready", "err", err)
		if !r.backOff(ctx, &failures, reconnected) {
			return // draining, with no broker to drain to
		}
	}

	if r.cfg.Commits != nil {
		listened := make(chan struct{})
		defer func() { cancel(); <-listened }()
		go func() { defer close(listened); r.cfg.Commits.Listen(ctx, r.Wake) }()
	}

	// Pruning touches only old published rows, never the ones being relayed,
	// so it runs beside the batches instead of delaying them.
	pruned := make(chan struct{})
	defer func() { cancel(); <-pruned }()
	go func() { defer close(pruned); r.pruneEvery(ctx) }()

	// Marking a batch published overlaps with reading and sending the next
	// one (see marking); at most one marking runs, and it is settled by the
	// next batch or before the relay stops.
	var marking *marking
	defer func() {
		if err := r.settle(&marking); err != nil {
			r.log.Warn("relay: batch failed", "err", err)
		}
	}()

	failures = 0
	for ctx.Err() == nil {
		n, err := r.relayBatch(ctx, &marking)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// An outage: wait it out without heeding wake-ups, which would
			// otherwise hammer a broker that is down on every commit, but
			// not past the broker's return. A draining relay stops
			// instead: the records wait in the outbox.
			failures++
			r.log.Warn("relay: batch failed", "err", err, "failures", failures)
			if !r.backOff(ctx, &failures, reconnected) {
				return
			}
			continue
		}
		failures = 0
		if n == r.cfg.BatchSize {
			continue // a backlog: keep draining
		}
		// Caught up. Drain is checked only here, after a short batch, so a
		// drain requested while idle still reads once more: what committed
		// just before it is published too.
		if r.draining() {
			r.log.Info("relay: drained")
			return
		}
		// The last batch's marking may still run while the relay waits: the
		// next batch skips its records and settles it (see relayBatch), so
		// an event committed now waits for one read and one publish, not
		// also for the previous batch's commit.
		r.idle(ctx, reconnected)
	}
}

// backOff waits out the backoff after *failures consecutive failures to
// reach the broker and reports true, or reports false at once if ctx is
// done or the relay is draining. The broker's return (a value on
// reconnected) ends the wait early and resets *failures: the backoff spared
// a broker that was away, and waiting on would only hold back the outbox
// (issue 10: NATS was back for 25 s before a relay 9 failures deep tried).
func (r *Relay) backOff(ctx context.Context, failures *int, reconnected <-chan struct{}) bool {
	t := time.NewTimer(backoff(*failures, r.cfg.BackoffMin, r.cfg.BackoffMax))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-reconnected:
		r.log.Info("relay: broker reachable again; retrying now", "failures", *failures)
		*failures = 0
		return true
	case <-ctx.Done():
	case <-r.drain:
	}
	return false
}

// idle waits for a wake-up, the poll interval, Drain, or ctx. A reconnect
// wakes it too: it costs one read, and a signal left waiting would cut
// short the first backoff of the next outage.
func (r *Relay) idle(ctx context.Context, reconnected <-chan struct{}) {
	t := time.NewTimer(r.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-r.wake:
	case <-reconnected:
	case <-t.C:
	case <-r.drain:
	case <-ctx.Done():
	}
}

// pruneEvery prunes now and then every PruneInterval until ctx is done.
func (r *Relay) pruneEvery(ctx context.Context) {
	for ctx.Err() == nil {
		r.prune(ctx)
		sleep(ctx, r.cfg.PruneInterval)
	}
}

// prune deletes published records older than the retention, a small batch
// per statement, until none is left or ctx is done.
func (r *Relay) prune(ctx context.Context) {
	cutoff := time.Now().Add(-r.cfg.Retention)
	var total int64
	for ctx.Err() == nil {
		n, err := r.store.Prune(ctx, cutoff, pruneBatch)
		total += n
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("relay: prune failed", "err", err)
			}
			break
		}
		if n < pruneBatch {
			break
		}
	}
	if total > 0 {
		r.log.Info("relay: pruned published events", "count", total, "before", cutoff)
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
