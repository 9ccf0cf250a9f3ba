package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
)

// TestBenchCommitToSMTP measures, against the real program (serve with the
// relay and the notification context inside, an embedded NATS, an
// in-process SMTP server), the time from a payment's 200 response (just
// after its commit) to its receipt's arrival at the SMTP server, at
// NOTIFY_BENCH_RATE payments/s (default 50) for NOTIFY_BENCH_SECONDS
// (default 10). It is a benchmark, not a test: it runs only with
// INVOICING_BENCH=1 (`make bench`) and prints its figures; the target
// (p99 <= 500 ms) is reported, not asserted.
func TestBenchCommitToSMTP(t *testing.T) {
	rate, n := benchLoad(t, "NOTIFY")
	mail := smtptest.New(t)
	base, keys, stop := startNotifyingServe(t, map[string]string{"SMTP_URL": mail.URL(), "MAIL_DOMAIN": "bench.test"}, "bench")
	c := client{t: t, base: base, key: keys["bench"]}

	// Open invoices to pay, their invoice emails received before the clock starts.
	ids, numbers := issueInvoices(c, n)
	mail.Wait(n, 5*time.Minute)

	committed, offered := payAtRate(c, ids, rate, func(i int) string { return "Receipt for invoice " + numbers[i] })
	msgs := mail.Wait(2*n, 5*time.Minute)

	var lat []time.Duration
	for _, m := range msgs {
		if at, ok := committed[m.Subject()]; ok {
			lat = append(lat, m.Received.Sub(at))
		}
	}
	if len(lat) != n {
		t.Fatalf("%d receipts matched, want %d", len(lat), n)
	}
	reportLatency(t, "commit-to-SMTP", "receipts", rate, offered, lat, "NOTIFY_BENCH_OUT")
	stop()
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err != nil || v <= 0 {
		return def
	}
	return v
}
