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
	// Stage reports how long one record spent in one stage of its way
	// from commit to marked published (see Stage); it is called once per
	// record and stage.
	Stage(s Stage, d time.Duration)
}

// Stage is one leg of a record's way through the relay. The stages of a
// record follow one another, so their durations add up to the time from
// its commit to its marking.
type Stage int

const (
	// StageWake runs from the event's time (taken just before its
	// transaction commits) to the start of the read that claims it: the
	// commit itself, the wake-up's delivery, and any step the relay was
	// still busy with.
	StageWake Stage = iota
	// StageClaim is the read of the batch from the store.
	StageClaim
	// StageQueue runs from the read to the send of the record's publish
	// round: awaiting the batch in flight, settling the marking before
	// it, and the earlier rounds of its own invoice.
	StageQueue
	// StagePublish runs from sending the record's round to the broker's
	// last answer in that round.
	StagePublish
	// StageMark runs from the broker's answer to the record being marked
	// published in the store.
	StageMark
	stages // how many stages there are
)

// String returns the stage's name for a metric label.
func (s Stage) String() string {
	switch s {
	case StageWake:
		return "commit_to_wake"
	case StageClaim:
		return "wake_to_claimed"
	case StageQueue:
		return "claimed_to_sent"
	case StagePublish:
		return "sent_to_acked"
	case StageMark:
		return "acked_to_marked"
	}
	return "unknown"
}

// Stages returns every stage, in the order a record goes through them.
func Stages() []Stage {
	out := make([]Stage, stages)
	for i := range out {
		out[i] = Stage(i)
	}
	return out
}

// noMetrics is the Metrics of a Config without one.
type noMetrics struct{}

func (noMetrics) Leading(bool)                       {}
func (noMetrics) Batch(int)                          {}
func (noMetrics) Round(time.Duration, int, int, int) {}
func (noMetrics) Parked()                            {}
func (noMetrics) Stage(Stage, time.Duration)         {}

// Backlog is the state of the outbox's work queue, for monitoring.
type Backlog struct {
	Unpublished int64     // records not yet published, parked ones included
	Parked      int64     // records parked (failed MaxAttempts times, or too large)
	Oldest      time.Time // when the oldest unpublished record happened; zero if none
}
