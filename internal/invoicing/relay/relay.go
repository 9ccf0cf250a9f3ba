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
//   - One active relay: relays elect a leader through their Leadership (a
//     PostgreSQL advisory lock); standbys retry every LeaderRetry. A single
//     leader sends nothing twice in normal operation.
//
// How the leader moves events, one step after another (see advance): it
// reads and encodes the next batch while the broker's answers to the batch
// in flight are awaited, records that batch's outcome, and sends the next
// one. Records are marked published beside the following step.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Relay moves committed outbox records to the broker. Create it with New,
// start it with Run and stop it with Close (or by cancelling Run's ctx);
// Wake and Drain may be called from any goroutine.
type Relay struct {
	store  Store
	leader Leadership
	pub    Publisher
	cfg    Config
	log    *slog.Logger
	wake   chan struct{}

	drainOnce sync.Once
	drain     chan struct{} // closed by Drain

	mu      sync.Mutex
	running bool
	closed  bool
	closing chan struct{} // closed by Close
	runs    sync.WaitGroup
}

// New returns a relay that moves store's records to pub while leadership
// makes it the leader, cfg's zero fields defaulted. It returns an error if a
// dependency is nil or cfg is invalid.
func New(store Store, leadership Leadership, pub Publisher, cfg Config, logger *slog.Logger) (*Relay, error) {
	if store == nil || leadership == nil || pub == nil || logger == nil {
		return nil, errors.New("relay: store, leadership, publisher and logger are required")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Relay{store: store, leader: leadership, pub: pub, cfg: cfg, log: logger.With("component", "relay"),
		wake: make(chan struct{}, 1), drain: make(chan struct{}), closing: make(chan struct{})}, nil
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

// Run relays until ctx is done, Close is called, or it has drained after
// Drain, then returns nil. It waits as a standby while another relay leads.
// Database and broker outages are logged and retried, never a reason to
// stop. It returns an error when it cannot go on: one wrapping
// ErrMisconfigured when the Publisher reports the broker misconfigured,
// ErrClosed after Close, or an error if Run is already running.
//
// Cancelling ctx stops at once: publishes in flight are abandoned (the next
// leader sends them again, and the broker drops the duplicates), but what
// the broker already acknowledged is still marked published (see bookkeep).
// Either way Run releases the leadership before it returns.
func (r *Relay) Run(ctx context.Context) error {
	r.mu.Lock()
	switch {
	case r.closed:
		r.mu.Unlock()
		return ErrClosed
	case r.running:
		r.mu.Unlock()
		return errors.New("relay: Run is already running")
	}
	r.running = true
	r.runs.Add(1)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
		r.runs.Done()
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.closing:
			cancel()
		case <-ctx.Done():
		}
	}()

	for ctx.Err() == nil {
		lease, err := r.leader.TryLead(ctx)
		switch {
		case err == nil:
			r.log.Info("relay: leading")
			r.cfg.Metrics.Leading(true)
			err = r.lead(ctx, lease)
			lease.Release()
			r.cfg.Metrics.Leading(false)
			r.log.Info("relay: no longer leading")
			if err != nil {
				return err
			}
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

// Close stops Run, as cancelling its ctx does, and returns once it has
// returned; Run cannot be started again. It may be called more than once,
// from any goroutine, and before Run or without it. It returns nil: nothing
// it releases can fail.
func (r *Relay) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.closing)
	}
	r.mu.Unlock()
	r.runs.Wait()
	return nil
}

// Drain asks Run to finish: a leader relays until no record is pending (or
// until the broker or the database fails: the records then wait for the
// next leader), marks what it sent, releases the leadership and returns; a
// standby returns at once. Drain does not wait; bound the drain by
// cancelling Run's ctx, or calling Close, at a deadline. It may be called more than once, from
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

// lead relays while the lease holds and ctx is live. It returns an error
// wrapping ErrMisconfigured if the broker cannot be prepared until an
// operator acts, nil when it stops for any other reason.
func (r *Relay) lead(ctx context.Context, lease Lease) error {
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
		if errors.Is(err, ErrMisconfigured) {
			r.log.Error("relay: the broker cannot take events until its configuration is fixed", "err", err)
			return fmt.Errorf("relay: prepare the broker: %w", err)
		}
		failures++
		r.log.Warn("relay: broker not ready", "err", err)
		if !r.backOff(ctx, &failures, reconnected) {
			return nil // draining, with no broker to drain to
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

	// The batch in flight and the marking of the one before it outlive a
	// step (see advance); both are settled before the relay stops.
	var p pipeline
	defer func() {
		if err := r.settleAll(ctx, &p); err != nil {
			r.log.Warn("relay: batch failed", "err", err)
		}
	}()

	failures = 0
	lagWait := minLagWait
	for ctx.Err() == nil {
		answering := p.flight != nil
		n, err := r.advance(ctx, &p)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// An outage: wait it out without heeding wake-ups, which would
			// otherwise hammer a broker that is down on every commit, but
			// not past the broker's return. A draining relay stops
			// instead: the records wait in the outbox.
			failures++
			r.log.Warn("relay: batch failed", "err", err, "failures", failures)
			if !r.backOff(ctx, &failures, reconnected) {
				return nil
			}
			continue
		}
		// Only answers end an outage's backoff: a step that merely sent a
		// batch (none was in flight) says nothing of the broker, and
		// resetting then would retry every BackoffMin however long the
		// outage lasts.
		if answered := answering || p.flight == nil; answered {
			failures = 0
		}
		if n == r.cfg.BatchSize || p.flight != nil {
			continue // a backlog, or a batch in flight: step on
		}
		// Caught up. Drain is checked only here, after a short batch, so a
		// drain requested while idle still reads once more: what committed
		// just before it is published too; and what waits for an older
		// transaction, once that has ended.
		if r.draining() {
			switch {
			case p.marking != nil:
				// Settle the last marking, then read once more: only a
				// read after it says whether the store still waits.
				if err := r.settle(&p.marking); err != nil {
					r.log.Warn("relay: batch failed", "err", err)
				}
				continue
			case !p.quiet:
				continue
			case p.lag == Lag{}:
				r.log.Info("relay: drained")
				return nil
			}
		}
		// The last batch's marking may still run while the relay waits: the
		// next step skips its records and settles it, so an event committed
		// now waits for one read and one publish, not also for the previous
		// batch's commit.
		if p.lag.Unread || r.draining() && p.lag.Unrecorded {
			// Records are committed but wait for an older transaction, whose
			// end may notify nobody (it need not write events): look again
			// soon, less often the longer it runs.
			r.lag(ctx, lagWait)
			lagWait = min(2*lagWait, maxLagWait, r.cfg.PollInterval)
			continue
		}
		lagWait = minLagWait
		if p.lag.Unrecorded {
			// Records are delivered, but their record waits: no haste, but
			// not a whole poll either, or the backlog would look stuck.
			r.lag(ctx, min(recordWait, r.cfg.PollInterval))
			continue
		}
		r.idle(ctx, reconnected)
	}
	return nil
}

// minLagWait is the first wait before the relay reads again when committed
// records wait for an older transaction: a payment's transaction takes a
// few milliseconds. The wait doubles up to maxLagWait, not to the poll
// interval, so that an event held back by a long transaction goes out
// soon after it ends; a read that finds nothing readable is two index
// probes, so fifty a second while it runs cost little.
const (
	minLagWait = time.Millisecond
	maxLagWait = 20 * time.Millisecond
)

// recordWait is how long the relay waits before it reads again when only
// the record of published records waits for an older transaction (see
// Lag): reading every few milliseconds for that would take CPU from the
// payments, and the records are delivered already.
const recordWait = 100 * time.Millisecond
