// Package stages reads the relay's time per stage, from commit to marked
// published, off a process's /metrics, for the load tool and the
// benchmarks that drive the service from outside.
package stages

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metric is the relay's histogram of the time each event spends in
// each stage from commit to marked published.
const Metric = "relay_event_stage_seconds"

// Order is the stages in an event's order, as reports list them.
var Order = []string{"commit_to_wake", "wake_to_claimed", "claimed_to_sent", "sent_to_acked", "acked_to_marked"}

// maxScrape bounds how much of a /metrics answer is read.
const maxScrape = 8 << 20

// Result is one relay stage over a level's measured part, read from
// the difference of two scrapes of the relay's histogram, in milliseconds.
// Quantiles are interpolated within a bucket, as Prometheus'
// histogram_quantile does.
type Result struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Mean  float64 `json:"mean_ms"`
}

// Histogram is one scraped series: cumulative counts by upper bound.
type Histogram struct {
	bounds []float64
	counts []uint64
	count  uint64
	sum    float64
}

// Scrape reads the relay's stage histograms from url, by stage. A
// process without a relay yields an empty map.
func Scrape(ctx context.Context, url string) (map[string]Histogram, error) {
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
	out, err := Parse(io.LimitReader(resp.Body, maxScrape))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return out, nil
}

// ScrapeAfter scrapes the relay's stages from url once d has passed (as
// the measured part of a run starts), or at once if ctx ends first. The
// channel yields nil if the scrape failed; the failure is written to
// stderr.
func ScrapeAfter(ctx context.Context, url string, d time.Duration, stderr io.Writer) <-chan map[string]Histogram {
	out := make(chan map[string]Histogram, 1)
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		h, err := Scrape(ctx, url)
		if err != nil {
			fmt.Fprintln(stderr, err)
		}
		out <- h
	}()
	return out
}

// Parse reads the stage histograms from the Prometheus text format,
// by stage; other series are ignored.
func Parse(r io.Reader) (map[string]Histogram, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	out := map[string]Histogram{}
	fam, ok := fams[Metric]
	if !ok {
		return out, nil
	}
	if fam.GetType() != dto.MetricType_HISTOGRAM {
		return nil, fmt.Errorf("%s is a %s, not a histogram", Metric, fam.GetType())
	}
	for _, m := range fam.GetMetric() {
		stage := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "stage" {
				stage = l.GetValue()
			}
		}
		mh := m.GetHistogram()
		h := Histogram{count: mh.GetSampleCount(), sum: mh.GetSampleSum()}
		for _, b := range mh.GetBucket() {
			h.bounds, h.counts = append(h.bounds, b.GetUpperBound()), append(h.counts, b.GetCumulativeCount())
		}
		out[stage] = h
	}
	return out, nil
}

// Between returns each stage's figures between the scrapes before and
// after; stages absent from either are left out.
func Between(before, after map[string]Histogram) map[string]Result {
	out := map[string]Result{}
	for stage, a := range after {
		b, ok := before[stage]
		if !ok || len(b.counts) != len(a.counts) {
			continue
		}
		d := Histogram{bounds: a.bounds, counts: make([]uint64, len(a.counts)), count: a.count - b.count, sum: a.sum - b.sum}
		for i := range a.counts {
			d.counts[i] = a.counts[i] - b.counts[i]
		}
		r := Result{Count: int(d.count), P50: 1000 * d.quantile(0.50), P99: 1000 * d.quantile(0.99)}
		if d.count > 0 {
			r.Mean = 1000 * d.sum / float64(d.count)
		}
		out[stage] = r
	}
	return out
}

// quantile returns the q-quantile, interpolated linearly within its bucket;
// beyond the last finite bound it returns that bound. 0 if h is empty.
func (h Histogram) quantile(q float64) float64 {
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
