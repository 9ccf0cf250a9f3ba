package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
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

// parseStages reads the stage histograms from the Prometheus text format:
// the lines of stageMetric's _bucket{stage,le}, _sum{stage} and
// _count{stage} series, whose labels the service writes in that order.
func parseStages(r io.Reader) (map[string]histogram, error) {
	type bucket struct {
		le    float64
		count uint64
	}
	buckets := map[string][]bucket{}
	out := map[string]histogram{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, stageMetric+"_")
		if !ok {
			continue
		}
		kind, labels, value, ok := splitSample(rest)
		if !ok {
			return nil, fmt.Errorf("unreadable line %q", line)
		}
		stage := labelValue(labels, "stage")
		h := out[stage]
		switch kind {
		case "bucket":
			le, err := strconv.ParseFloat(labelValue(labels, "le"), 64)
			if err != nil {
				return nil, fmt.Errorf("unreadable bound in %q", line)
			}
			buckets[stage] = append(buckets[stage], bucket{le, uint64(value)})
		case "sum":
			h.sum = value
		case "count":
			h.count = uint64(value)
		}
		out[stage] = h
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for stage, bs := range buckets {
		sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
		h := out[stage]
		for _, b := range bs {
			h.bounds, h.counts = append(h.bounds, b.le), append(h.counts, b.count)
		}
		out[stage] = h
	}
	return out, nil
}

// splitSample splits `bucket{stage="x",le="0.1"} 12` into its suffix,
// labels and value.
func splitSample(s string) (kind, labels string, value float64, ok bool) {
	open, closing := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
	if open < 0 || closing < open {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(strings.Fields(s[closing+1:] + " x")[0], 64)
	if err != nil {
		return "", "", 0, false
	}
	return s[:open], s[open+1 : closing], v, true
}

// labelValue returns the value of name in labels (`a="1",b="2"`), or "".
func labelValue(labels, name string) string {
	for _, kv := range strings.Split(labels, ",") {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
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
