package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// stageMetric is the relay's histogram of the time each event spends in
// each stage from commit to marked published.
const stageMetric = "relay_event_stage_seconds"

// maxScrape bounds how much of a /metrics answer is read.
const maxScrape = 8 << 20

// stageResult is one relay stage over a level's measured part, read from
// the difference of two scrapes of the relay's histogram, in milliseconds.
// Quantiles are interpolated within a bucket, as Prometheus'
// histogram_quantile does.
type stageResult struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Mean  float64 `json:"mean_ms"`
}

// histogram is one scraped series: cumulative counts by upper bound.
type histogram struct {
	bounds []float64
	counts []uint64
	count  uint64
	sum    float64
}

// scrapeStages reads the relay's stage histograms from url, by stage. A
// process without a relay yields an empty map.
func scrapeStages(ctx context.Context, url string) (map[string]histogram, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %d", url, resp.StatusCode)
	}
	out, err := parseStages(io.LimitReader(resp.Body, maxScrape))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return out, nil
}

// parseStages reads the stage histograms from the Prometheus text format,
// by stage; other series are ignored.
func parseStages(r io.Reader) (map[string]histogram, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	out := map[string]histogram{}
	fam, ok := fams[stageMetric]
	if !ok {
		return out, nil
	}
	if fam.GetType() != dto.MetricType_HISTOGRAM {
		return nil, fmt.Errorf("%s is a %s, not a histogram", stageMetric, fam.GetType())
	}
	for _, m := range fam.GetMetric() {
		stage := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "stage" {
				stage = l.GetValue()
			}
		}
		mh := m.GetHistogram()
		h := histogram{count: mh.GetSampleCount(), sum: mh.GetSampleSum()}
		for _, b := range mh.GetBucket() {
			h.bounds, h.counts = append(h.bounds, b.GetUpperBound()), append(h.counts, b.GetCumulativeCount())
		}
		out[stage] = h
	}
	return out, nil
}

// stageResults returns each stage's figures between the scrapes before and
// after; stages absent from either are left out.
func stageResults(before, after map[string]histogram) map[string]stageResult {
	out := map[string]stageResult{}
	for stage, a := range after {
		b, ok := before[stage]
		if !ok || len(b.counts) != len(a.counts) {
			continue
		}
		d := histogram{bounds: a.bounds, counts: make([]uint64, len(a.counts)), count: a.count - b.count, sum: a.sum - b.sum}
		for i := range a.counts {
			d.counts[i] = a.counts[i] - b.counts[i]
		}
		r := stageResult{Count: int(d.count), P50: 1000 * d.quantile(0.50), P99: 1000 * d.quantile(0.99)}
		if d.count > 0 {
			r.Mean = 1000 * d.sum / float64(d.count)
		}
		out[stage] = r
	}
	return out
}

// quantile returns the q-quantile, interpolated linearly within its bucket;
// beyond the last finite bound it returns that bound. 0 if h is empty.
func (h histogram) quantile(q float64) float64 {
	if h.count == 0 {
		return 0
	}
	rank := q * float64(h.count)
	lower, below := 0.0, uint64(0)
	for i, upper := range h.bounds {
		if float64(h.counts[i]) >= rank {
			if math.IsInf(upper, 1) {
				return lower
			}
			in := h.counts[i] - below
			if in == 0 {
				return upper
			}
			return lower + (upper-lower)*(rank-float64(below))/float64(in)
		}
		lower, below = upper, h.counts[i]
	}
	return lower
}
