package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	rate, n := benchLoad(t, "WEBHOOK")
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

	ids, _ := issueInvoices(c, n)
	// Registered after the set-up: the receiver hears the payments only.
	c.call("POST", "/v1/webhook_endpoints", `{"url":"`+rcv.URL+`","enabled_events":["invoicing.invoice.paid"]}`, 201)

	committed, offered := payAtRate(c, ids, rate, func(i int) string { return ids[i] })
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
	reportLatency(t, "commit-to-webhook", "webhooks", rate, offered, lat, "WEBHOOK_BENCH_OUT")
	stop()
}
