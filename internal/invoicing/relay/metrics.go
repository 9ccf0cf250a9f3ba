package relay

import "time"

// Metrics receives the relay's measurements (Config.Metrics). The relay
// calls it on its hot path, so implementations must be cheap, must not
// block, and must be safe for concurrent use. A nil Config.Metrics records
// nothing.
type Metrics interface {
	// Leading reports that this relay became (true) or stopped being
	// (false) the leader.
	Leading(leading bool)
	// Batch reports a batch of records read from the store (never empty).
	Batch(records int)
	// Round reports one publish round of a batch: how long sending it and
	// awaiting every answer took, and how many messages the broker stored,
	// rejected, or could not be asked about (unavailable).
	Round(d time.Duration, stored, rejected, unavailable int)
	// Parked reports a record parked after its last allowed attempt, or
	// at once because it is too large for the broker.
	Parked()
}

// noMetrics is the Metrics of a Config without one.
type noMetrics struct{}

func (noMetrics) Leading(bool)                       {}
func (noMetrics) Batch(int)                          {}
func (noMetrics) Round(time.Duration, int, int, int) {}
func (noMetrics) Parked()                            {}

// Backlog is the state of the outbox's work queue, for monitoring.
type Backlog struct {
	Unpublished int64     // records not yet published, parked ones included
	Parked      int64     // records parked (failed MaxAttempts times, or too large)
	Oldest      time.Time // when the oldest unpublished record happened; zero if none
}
