package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// The rig of the end-to-end, fault and bench tests of the notification
// context and its webhooks: the program started in-process, its /metrics
// read, and payments paid at a rate with their latency reported.

// startCommand runs `invoicing <command>` in-process with getenv until the
// test ends, and waits until it listens. It returns the base URL and a stop
// that cancels it and fails the test unless it returns nil within 30s.
func startCommand(t *testing.T, getenv func(string) string, command string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{command}, getenv, logs) }()
	base = "http://" + waitListening(t, logs, done)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s returned %v after cancel, want nil", command, err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("%s did not stop within 30s of cancellation", command)
			}
		})
	}
	t.Cleanup(stop)
	return base, stop
}

// startNotifyingServe migrates a fresh database, creates an API key per
// tenant and runs serve with its relay and the notification consumers
// inside (its own embedded NATS), vars added to or overriding that
// environment. It returns the base URL, the keys by tenant, and
// startCommand's stop.
func startNotifyingServe(t *testing.T, vars map[string]string, tenants ...string) (base string, keys map[string]string, stop func()) {
	t.Helper()
	all := map[string]string{
		"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": natstest.New(t).URL(), "NOTIFY_ENABLED": "true",
	}
	maps.Copy(all, vars)
	getenv := env(all)
	ctx := context.Background()
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	keys = map[string]string{}
	for _, tenant := range tenants {
		var out strings.Builder
		if err := run(ctx, []string{"apikey", "create", "--tenant", tenant}, getenv, &out); err != nil {
			t.Fatalf("apikey create: %v", err)
		}
		keys[tenant] = lastLine(out.String())
	}
	base, stop = startCommand(t, getenv, "serve")
	return base, keys, stop
}

// wantMetric fails the test unless base's /metrics holds line, naming the
// metric what.
func wantMetric(t *testing.T, base, line, what string) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), line) {
		t.Errorf("metrics lack %s:\n%.2000s", what, b)
	}
}

// benchLoad skips a benchmark unless INVOICING_BENCH=1, and returns its
// rate, $<prefix>_BENCH_RATE payments/s (default 50), and its number of
// payments, that rate times $<prefix>_BENCH_SECONDS (default 10).
func benchLoad(t *testing.T, prefix string) (rate, n int) {
	t.Helper()
	if os.Getenv("INVOICING_BENCH") != "1" {
		t.Skip("a benchmark: set INVOICING_BENCH=1 (make bench)")
	}
	rate, secs := envInt(prefix+"_BENCH_RATE", 50), envInt(prefix+"_BENCH_SECONDS", 10)
	return rate, rate * secs
}

// payAtRate pays the invoices of ids in full, rate payments a second, each
// in its own goroutine, and returns when each 200 came back (by key(i)) and
// how long the offering took.
func payAtRate(c client, ids []string, rate int, key func(i int) string) (committed map[string]time.Time, offered time.Duration) {
	var mu sync.Mutex
	committed = make(map[string]time.Time, len(ids))
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	start := time.Now()
	for i := range ids {
		<-tick.C
		wg.Go(func() {
			c.call("POST", "/v1/invoices/"+ids[i]+"/payments", `{"amount":12000,"reference":"psp"}`, 200)
			mu.Lock()
			committed[key(i)] = time.Now()
			mu.Unlock()
		})
	}
	tick.Stop()
	wg.Wait()
	return committed, time.Since(start)
}

// reportLatency logs the quantiles of lat (n arrivals, of what, at rate
// payments/s offered over offered) against the target p99 <= 500 ms, and
// writes the line to the file named by $outVar if set.
func reportLatency(t *testing.T, what, arrivals string, rate int, offered time.Duration, lat []time.Duration, outVar string) {
	t.Helper()
	n := len(lat)
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	report := fmt.Sprintf("%s at %d payments/s offered (%.1f achieved), %d %s: p50 %s, p90 %s, p99 %s, max %s (target p99 <= 500ms: %s)",
		what, rate, float64(n)/offered.Seconds(), n, arrivals, q(0.5).Round(time.Millisecond), q(0.9).Round(time.Millisecond),
		q(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), map[bool]string{true: "met", false: "missed"}[q(0.99) <= 500*time.Millisecond])
	t.Log(report)
	if path := os.Getenv(outVar); path != "" {
		if err := os.WriteFile(path, []byte(report+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// issueInvoices creates and issues n invoices of EUR 120.00 (tax included)
// and returns their ids and numbers.
func issueInvoices(c client, n int) (ids, numbers []string) {
	ids, numbers = make([]string, n), make([]string, n)
	for i := range n {
		inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":1,"unit_amount":10000,"tax_rate_bps":2000}]}`, 201)
		ids[i] = inv["id"].(string)
		numbers[i] = c.call("POST", "/v1/invoices/"+ids[i]+"/issue", ``, 200)["number"].(string)
	}
	return ids, numbers
}
