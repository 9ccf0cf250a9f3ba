package relay

import (
	"context"
	"time"
)

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

// backOff waits out the backoff after *failures consecutive failures to
// reach the broker and reports true, or reports false at once if ctx is
// done or the relay is draining. The broker's return (a value on
// reconnected) ends the wait early and resets *failures: the backoff spared
// a broker that was away, and waiting on would only hold back the outbox.
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

// lag waits d, for a wake-up, or until ctx is done; unlike idle, not for
// Drain, which cannot end until the records it waits for are readable.
func (r *Relay) lag(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.wake:
	case <-ctx.Done():
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
