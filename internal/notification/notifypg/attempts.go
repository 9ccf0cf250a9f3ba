package notifypg

import (
	"sync/atomic"
	"time"
)

// attemptBounds are the upper bounds, in seconds, of the buckets the
// webhook attempts' durations are counted in: from a receiver on the same
// network to one that takes the whole WEBHOOK_TIMEOUT.
var attemptBounds = [...]float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// attemptStats counts this process's webhook attempts by outcome and
// duration, for the metrics; lock-free, since every worker records.
type attemptStats struct {
	ok, failed durationCounts
}

type durationCounts struct {
	buckets [len(attemptBounds) + 1]atomic.Uint64 // one per bound, and one above the last
	sum     atomic.Int64                          // nanoseconds
}

// observe counts one attempt that took d.
func (s *attemptStats) observe(d time.Duration, ok bool) {
	c := &s.failed
	if ok {
		c = &s.ok
	}
	i := 0
	for i < len(attemptBounds) && d.Seconds() > attemptBounds[i] {
		i++
	}
	c.buckets[i].Add(1)
	c.sum.Add(int64(d))
}

// cumulative returns, for each bound, the attempts that took at most that
// long, then the attempts in all; and their total time in seconds.
func (c *durationCounts) cumulative() ([]uint64, float64) {
	out := make([]uint64, len(c.buckets))
	var n uint64
	for i := range c.buckets {
		n += c.buckets[i].Load()
		out[i] = n
	}
	return out, time.Duration(c.sum.Load()).Seconds()
}

// WebhookAttemptDurations returns the durations of the webhook attempts
// this process made since it started, by outcome, "succeeded" (a 2xx) or
// "failed" (any other answer, or none): the buckets' upper bounds in
// seconds; for each outcome the attempts that took at most each bound,
// cumulative, followed by the attempts in all; and their total seconds.
func (q *Queue) WebhookAttemptDurations() (bounds []float64, counts map[string][]uint64, seconds map[string]float64) {
	counts, seconds = map[string][]uint64{}, map[string]float64{}
	for outcome, c := range map[string]*durationCounts{"succeeded": &q.attempts.ok, "failed": &q.attempts.failed} {
		counts[outcome], seconds[outcome] = c.cumulative()
	}
	return attemptBounds[:], counts, seconds
}
