package stages

import (
	"math"
	"strings"
	"testing"
)

// TestBetweenDiffsTheScrapesAndInterpolates: only what the level added
// counts, and a quantile falls inside its bucket as histogram_quantile
// places it.
func TestBetweenDiffsTheScrapesAndInterpolates(t *testing.T) {
	bounds := []float64{0.001, 0.002, 0.004, math.Inf(1)}
	before := map[string]Histogram{"sent_to_acked": {bounds: bounds, counts: []uint64{100, 100, 100, 100}, count: 100, sum: 0.05}}
	// The level adds 50 in (0,1ms], 40 in (1,2ms], 10 in (2,4ms].
	after := map[string]Histogram{"sent_to_acked": {bounds: bounds, counts: []uint64{150, 190, 200, 200}, count: 200, sum: 0.15}}
	got := Between(before, after)["sent_to_acked"]
	if got.Count != 100 || math.Abs(got.Mean-1) > 1e-9 {
		t.Errorf("count %d mean %.3f ms, want 100 and 1", got.Count, got.Mean)
	}
	if math.Abs(got.P50-1) > 1e-9 || math.Abs(got.P99-3.8) > 1e-9 {
		t.Errorf("p50 %.3f p99 %.3f ms, want 1 and 3.8", got.P50, got.P99)
	}
	if _, ok := Between(nil, after)["sent_to_acked"]; ok {
		t.Error("a stage missing from the first scrape was reported")
	}
}

// TestParseReadsTheServicesHistogram reads the stage histogram as
// the service's /metrics writes it, other series and comments around it.
func TestParseReadsTheServicesHistogram(t *testing.T) {
	const text = `# HELP relay_event_stage_seconds Time each published event spent in each stage.
# TYPE relay_event_stage_seconds histogram
relay_event_stage_seconds_bucket{stage="sent_to_acked",le="0.001"} 3
relay_event_stage_seconds_bucket{stage="sent_to_acked",le="0.002"} 7
relay_event_stage_seconds_bucket{stage="sent_to_acked",le="+Inf"} 8
relay_event_stage_seconds_sum{stage="sent_to_acked"} 0.0125
relay_event_stage_seconds_count{stage="sent_to_acked"} 8
relay_events_published_total 8
`
	got, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	h, ok := got["sent_to_acked"]
	if !ok || len(got) != 1 {
		t.Fatalf("stages %v, want sent_to_acked only", got)
	}
	if h.count != 8 || h.sum != 0.0125 || len(h.bounds) != 3 || h.bounds[1] != 0.002 || !math.IsInf(h.bounds[2], 1) ||
		h.counts[0] != 3 || h.counts[1] != 7 || h.counts[2] != 8 {
		t.Errorf("histogram %+v", h)
	}
	if _, err := Parse(strings.NewReader(`relay_event_stage_seconds_count{stage="x"} many`)); err == nil {
		t.Error("an unreadable value was accepted")
	}
}
