package notifypg

import (
	"slices"
	"testing"
	"time"
)

func TestAttemptStatsAreCumulativeByOutcome(t *testing.T) {
	var s attemptStats
	for _, d := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 300 * time.Millisecond, time.Minute} {
		s.observe(d, true)
	}
	s.observe(2*time.Second, false)
	ok, okSeconds := s.ok.cumulative()
	// 5 and 10 ms in the first bucket (at most 0.01 s), 300 ms from the
	// 0.5 s one on, a minute above every bound; the total last.
	if want := []uint64{2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4}; !slices.Equal(ok, want) || okSeconds != 60.315 {
		t.Errorf("succeeded = %v, %v s; want %v, 60.315 s", ok, okSeconds, want)
	}
	if failed, _ := s.failed.cumulative(); failed[6] != 0 || failed[7] != 1 || failed[11] != 1 {
		t.Errorf("failed = %v, want one attempt from the 2.5 s bucket on", failed)
	}
}
