package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/invoicing-dev/invoicing/tools/stages"
)

// report is the whole run's result; its JSON is read by bench/run.sh.
type report struct {
	Invoices int           `json:"invoices_prepared"`
	Levels   []levelResult `json:"levels"`
}

// levelResult is one concurrency level. Latencies are of successful (200)
// payments, in milliseconds.
type levelResult struct {
	Concurrency int            `json:"concurrency"`
	Rate        float64        `json:"rate_cap,omitempty"` // payments/s cap, 0 = none
	Seconds     float64        `json:"seconds"`
	OK          int            `json:"ok"`
	RPS         float64        `json:"rps"` // successful payments per second
	P50         float64        `json:"p50_ms"`
	P95         float64        `json:"p95_ms"`
	P99         float64        `json:"p99_ms"`
	Errors      map[string]int `json:"errors"` // by HTTP status, or "transport"
	Exhausted   bool           `json:"exhausted"`
	Events      *eventResult   `json:"events,omitempty"`
	// Stages is the relay's time per stage (see -metrics-url), by stage.
	Stages map[string]stages.Result `json:"stages,omitempty"`
}

// eventResult is the commit-to-delivery delay of a level's paid events:
// arrival at the consumer minus the CloudEvent time, in milliseconds.
type eventResult struct {
	Expected int     `json:"expected"`
	Received int     `json:"received"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

func newLevelResult(n int, rate float64, elapsed time.Duration, lat []time.Duration, errs map[string]int, exhausted bool) levelResult {
	slices.Sort(lat)
	return levelResult{
		Concurrency: n, Rate: rate, Seconds: elapsed.Seconds(), OK: len(lat),
		RPS: float64(len(lat)) / elapsed.Seconds(),
		P50: ms(percentile(lat, 50)), P95: ms(percentile(lat, 95)), P99: ms(percentile(lat, 99)),
		Errors: errs, Exhausted: exhausted,
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted, or 0 if it is empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The smallest value with at least p% of the values at or below it.
	rank := int(float64(len(sorted))*p/100+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (r report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable writes one row per level, and the event delays if measured.
func (r report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clients\trate cap\tpaid\treq/s\tp50 ms\tp95 ms\tp99 ms\terrors\tevents\tc2d p50 ms\tc2d p99 ms\t")
	for _, l := range r.Levels {
		rate, ev, e50, e99 := "-", "-", "-", "-"
		if l.Rate > 0 {
			rate = fmt.Sprintf("%.0f/s", l.Rate)
		}
		if e := l.Events; e != nil {
			ev = fmt.Sprintf("%d/%d", e.Received, e.Expected)
			e50, e99 = fmt.Sprintf("%.1f", e.P50), fmt.Sprintf("%.1f", e.P99)
		}
		errs := formatErrors(l.Errors)
		if l.Exhausted {
			errs += " (ran out of invoices)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t\n",
			l.Concurrency, rate, l.OK, l.RPS, l.P50, l.P95, l.P99, errs, ev, e50, e99)
	}
	return tw.Flush()
}

// formatErrors writes counts by status in status order: "409:3 500:1".
func formatErrors(errs map[string]int) string {
	if len(errs) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, errs[k]))
	}
	return strings.Join(parts, " ")
}
