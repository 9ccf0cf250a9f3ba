package faulttest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// report is the figures of a run, logged and, with FAULT_REPORT=path,
// written as JSON.
type report struct {
	NATS      string // nats-server version and JetStream sync mode
	Verdict   verdict
	Faults    map[string]int
	Races     map[string]int // invoices paid by two payers at once, by variant
	LoadTime  time.Duration
	DrainTime time.Duration
	Backlog   int // events not yet published when the load stopped

	Acked    int // distinct payments acknowledged to clients
	Requests int64
	Replayed int64 // answers replayed from an Idempotency-Key
	Retries  map[string]int64

	Starts, FailedStarts int
	Crashes              []string
}

// String renders the report for the test log.
func (r report) String() string {
	var b strings.Builder
	v := r.Verdict
	total := 0
	for _, n := range r.Faults {
		total += n
	}
	fmt.Fprintf(&b, "fault suite: load %s, then %d unpublished events drained in %s; %s\n",
		r.LoadTime.Round(time.Second), r.Backlog, r.DrainTime.Round(time.Millisecond), r.NATS)
	fmt.Fprintf(&b, "  invoices %d (issued %d, paid %d), payments %d (%d acknowledged to clients), events %d, stream messages %d\n",
		v.Invoices, v.Issued, v.Paid, v.Payments, r.Acked, v.Events, v.StreamMessages)
	fmt.Fprintf(&b, "  requests %d, replayed by Idempotency-Key %d, retries %s\n", r.Requests, r.Replayed, counts(r.Retries))
	fmt.Fprintf(&b, "  faults injected %d: %s\n", total, counts(r.Faults))
	fmt.Fprintf(&b, "  invoices paid by two payers at once: %s\n", counts(r.Races))
	fmt.Fprintf(&b, "  process starts %d (failed starts while the database was down: %d), exits not caused by the suite %d\n",
		r.Starts, r.FailedStarts, len(r.Crashes))
	fmt.Fprintf(&b, "  (1) lost %d, duplicated %d\n", v.Lost, v.Duplicated)
	fmt.Fprintf(&b, "  (2) phantom %d, mismatched %d\n", v.Phantom, v.Mismatched)
	fmt.Fprintf(&b, "  (3) out of order %d, version gaps %d\n", v.OutOfOrder, v.VersionGaps)
	fmt.Fprintf(&b, "  (4) paid invoices without exactly one paid event, or unpaid with one: %d\n", v.PaidEvents)
	fmt.Fprintf(&b, "  (5) acknowledged but missing %d, amount_paid not the sum of payments %d\n", v.AckedMissing, v.SumMismatches)
	fmt.Fprintf(&b, "  (6) invoice numbers out of place %d", v.NumberGaps)
	return b.String()
}

// counts renders a map as "k1 n1, k2 n2", keys sorted.
func counts[N int | int64](m map[string]N) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
