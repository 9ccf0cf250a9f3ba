package main

import (
	"math"
	"testing"
)

// TestStageResultsDiffTheScrapesAndInterpolate: only what the level added
// counts, and a quantile falls inside its bucket as histogram_quantile
// places it.
func TestStageResultsDiffTheScrapesAndInterpolate(t *testing.T) {
	bounds := []float64{0.001, 0.002, 0.004, math.Inf(1)}
	before := map[string]histogram{"sent_to_acked": {bounds: bounds, counts: []uint64{100, 100, 100, 100}, count: 100, sum: 0.05}}
	// The level adds 50 in (0,1ms], 40 in (1,2ms], 10 in (2,4ms].
	after := map[string]histogram{"sent_to_acked": {bounds: bounds, counts: []uint64{150, 190, 200, 200}, count: 200, sum: 0.15}}
	got := stageResults(before, after)["sent_to_acked"]
	if got.Count != 100 || math.Abs(got.Mean-1) > 1e-9 {
		t.Errorf("count %d mean %.3f ms, want 100 and 1", got.Count, got.Mean)
	}
	if math.Abs(got.P50-1) > 1e-9 || math.Abs(got.P99-3.8) > 1e-9 {
		t.Errorf("p50 %.3f p99 %.3f ms, want 1 and 3.8", got.P50, got.P99)
	}
	if _, ok := stageResults(nil, after)["sent_to_acked"]; ok {
		t.Error("a stage missing from the first scrape was reported")
	}
}
