package relay

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes a Relay. Zero fields take the defaults noted.
type Config struct {
	// PollInterval is how often the leader looks for new records without a
	// wake-up: at most this long after a missed Wake or a lost Commits
	// notice. Default 1s (RELAY_POLL_INTERVAL).
	PollInterval time.Duration

	// BatchSize is the most records read, held in memory and in flight at
	// once; it bounds the relay's memory whatever the backlog. Default 500,
	// at most 10000 (RELAY_BATCH_SIZE).
	BatchSize int

	// MaxAttempts is how many times a record the broker rejects (e.g. no
	// stream for its subject) is tried before it is parked. Outages do not
	// count; a record too large for the broker is parked at its first
	// rejection. Default 10 (RELAY_MAX_ATTEMPTS).
	MaxAttempts int

	// BackoffMin and BackoffMax bound the capped exponential backoff, with
	// jitter, after an outage and between attempts of a rejected record.
	// Defaults 100ms and 30s.
	BackoffMin, BackoffMax time.Duration

	// LeaderRetry is how often a standby tries to become leader, so it is
	// also the fail-over time after a leader dies. Default 1s.
	LeaderRetry time.Duration

	// Retention is how long published records are kept (the event feed
	// serves them) before they are pruned. Default 168h (OUTBOX_RETENTION).
	Retention time.Duration

	// PruneInterval is how often the leader prunes. Default 1m.
	PruneInterval time.Duration

	// Metrics receives the relay's measurements. Default: none.
	Metrics Metrics

	// Commits tells the leader of commits made by other processes. Default:
	// none (only Wake and the poll).
	Commits Commits
}

// maxBatchSize bounds BatchSize; publishers must admit this many messages
// in flight (the NATS one does).
const maxBatchSize = 10000

// pruneBatch is the most rows one prune statement deletes: short statements
// keep locks and WAL bursts small, so inserts never wait on pruning.
const pruneBatch = 1000

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.PollInterval, time.Second)
	def(&c.BackoffMin, 100*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	def(&c.LeaderRetry, time.Second)
	def(&c.Retention, 168*time.Hour)
	def(&c.PruneInterval, time.Minute)
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.Metrics == nil {
		c.Metrics = noMetrics{}
	}
}

// Validate returns an error naming every field out of range, nil if none is.
func (c Config) Validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", name, d))
		}
	}
	positive("poll interval", c.PollInterval)
	positive("minimum backoff", c.BackoffMin)
	positive("leader retry", c.LeaderRetry)
	positive("retention", c.Retention)
	positive("prune interval", c.PruneInterval)
	if c.BackoffMax < c.BackoffMin {
		errs = append(errs, fmt.Errorf("maximum backoff %s is below minimum %s", c.BackoffMax, c.BackoffMin))
	}
	if c.BatchSize < 1 || c.BatchSize > maxBatchSize {
		errs = append(errs, fmt.Errorf("batch size must be 1..%d, got %d", maxBatchSize, c.BatchSize))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("max attempts must be at least 1, got %d", c.MaxAttempts))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("relay: invalid config: %w", err)
	}
	return nil
}
