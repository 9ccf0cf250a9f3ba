package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestBenchCommitToWebhook measures, against the real program (serve with
// the relay, the notification consumers and the webhook workers inside, an
// embedded NATS, a receiver on loopback that answers at once), the time
// from a payment's 200 response (just after its commit) to the arrival of
// its invoicing.invoice.paid webhook, at WEBHOOK_BENCH_RATE payments/s
// (default 50) for WEBHOOK_BENCH_SECONDS (default 10). Like
// TestBenchCommitToSMTP it runs only with INVOICING_BENCH=1 (`make bench`);
// the target (p99 <= 500 ms) is reported, not asserted.
func TestBenchCommitToWebhook(t *testing.T) {
	if os.Getenv("INVOICING_BENCH") != "1" {
		t.Skip("a benchmark: set INVOICING_BENCH=1 (make bench)")
	}
	rate, secs := envInt("WEBHOOK_BENCH_RATE", 50), envInt("WEBHOOK_BENCH_SECONDS", 10)
	n := rate * secs
	var mu sync.Mutex
	arrived := map[string]time.Time{} // by invoice id
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Subject string }
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		if _, dup := arrived[ev.Subject]; !dup {
			arrived[ev.Subject] = time.Now()
		}
		mu.Unlock()
	}))
	defer rcv.Close()
	base, keys, stop := startWebhookServe(t, "bench")
	c := client{t: t, base: base, key: keys["bench"]}

	ids := make([]string, n)
	for i := range n {
		inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":1,"unit_amount":10000,"tax_rate_bps":2000}]}`, 201)
		ids[i] = inv["id"].(string)
		c.call("POST", "/v1/invoices/"+ids[i]+"/issue", ``, 200)
	}
	// Registered after the set-up: the receiver hears the payments only.
	c.call("POST", "/v1/webhook_endpoints", `{"url":"`+rcv.URL+`","enabled_events":["invoicing.invoice.paid"]}`, 201)

	committed := make(map[string]time.Time, n)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	start := time.Now()
	for i := range n {
		<-tick.C
		wg.Go(func() {
			c.call("POST", "/v1/invoices/"+ids[i]+"/payments", `{"amount":12000,"reference":"psp"}`, 200)
			mu.Lock()
			committed[ids[i]] = time.Now()
			mu.Unlock()
		})
	}
	tick.Stop()
	wg.Wait()
	offered := time.Since(start)
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		got := len(arrived)
		mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d webhooks in 5 minutes", got, n)
		}
	}
	mu.Lock()
	lat := make([]time.Duration, 0, n)
	for id, at := range committed {
		lat = append(lat, arrived[id].Sub(at))
	}
	mu.Unlock()
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	report := fmt.Sprintf("commit-to-webhook at %d payments/s offered (%.1f achieved), %d webhooks: p50 %s, p90 %s, p99 %s, max %s (target p99 <= 500ms: %s)",
		rate, float64(n)/offered.Seconds(), n, q(0.5).Round(time.Millisecond), q(0.9).Round(time.Millisecond),
		q(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), map[bool]string{true: "met", false: "missed"}[q(0.99) <= 500*time.Millisecond])
	t.Log(report)
	if path := os.Getenv("WEBHOOK_BENCH_OUT"); path != "" {
		if err := os.WriteFile(path, []byte(report+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stop()
}
