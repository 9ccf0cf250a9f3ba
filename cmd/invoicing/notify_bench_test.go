package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/infra/nats/natstest"
	"github.com/invoicing-dev/invoicing/internal/infra/postgres/pgtest"
	"github.com/invoicing-dev/invoicing/internal/notification/smtp/smtptest"
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
	if os.Getenv("INVOICING_BENCH") != "1" {
		t.Skip("a benchmark: set INVOICING_BENCH=1 (make bench)")
	}
	rate, secs := envInt("NOTIFY_BENCH_RATE", 50), envInt("NOTIFY_BENCH_SECONDS", 10)
	n := rate * secs
	ns := natstest.New(t)
	mail := smtptest.New(t)
	getenv := env(map[string]string{
		"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": ns.URL(),
		"NOTIFY_ENABLED": "true", "SMTP_URL": mail.URL(), "MAIL_DOMAIN": "bench.test",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(ctx, []string{"apikey", "create", "--tenant", "bench"}, getenv, &out); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, getenv, logs) }()
	c := client{t: t, base: "http://" + waitListening(t, logs, done), key: lastLine(out.String())}

	// Open invoices to pay, their invoice emails received before the clock starts.
	ids, numbers := make([]string, n), make([]string, n)
	for i := range n {
		inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":1,"unit_amount":10000,"tax_rate_bps":2000}]}`, 201)
		ids[i] = inv["id"].(string)
		numbers[i] = c.call("POST", "/v1/invoices/"+ids[i]+"/issue", ``, 200)["number"].(string)
	}
	mail.Wait(n, 5*time.Minute)

	var mu sync.Mutex
	committed := map[string]time.Time{}
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	start := time.Now()
	for i := range n {
		<-tick.C
		wg.Go(func() {
			c.call("POST", "/v1/invoices/"+ids[i]+"/payments", `{"amount":12000,"reference":"psp"}`, 200)
			mu.Lock()
			committed["Receipt for invoice "+numbers[i]] = time.Now()
			mu.Unlock()
		})
	}
	tick.Stop()
	wg.Wait()
	offered := time.Since(start)
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
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	report := fmt.Sprintf("commit-to-SMTP at %d payments/s offered (%.1f achieved), %d receipts: p50 %s, p90 %s, p99 %s, max %s (target p99 <= 500ms: %s)",
		rate, float64(n)/offered.Seconds(), n, q(0.5).Round(time.Millisecond), q(0.9).Round(time.Millisecond),
		q(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), map[bool]string{true: "met", false: "missed"}[q(0.99) <= 500*time.Millisecond])
	t.Log(report)
	if path := os.Getenv("NOTIFY_BENCH_OUT"); path != "" {
		if err := os.WriteFile(path, []byte(report+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	<-done
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err != nil || v <= 0 {
		return def
	}
	return v
}
