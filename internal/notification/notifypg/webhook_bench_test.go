package notifypg_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// BenchmarkWebhookDeliveries measures deliveries/s to local receivers that
// answer 200 at once: b.N deliveries (b.N/4 events to 4 endpoints, with the
// default concurrency: 50 workers, 4 per endpoint), their tasks stored
// before the clock starts; each attempt signs, posts, and records the
// attempt and the delivery's state. Reported as deliveries/s.
func BenchmarkWebhookDeliveries(b *testing.B) {
	const endpoints = 4
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer rcv.Close()
	h := newHarness(b, notifypg.WebhookConfig{})
	for i := range endpoints {
		h.register(b, "bench", rcv.URL+"/"+string(rune('a'+i)), "*")
	}
	events := max(1, b.N/endpoints)
	// Stop the workers while the tasks are stored: the clock covers the
	// deliveries alone.
	if err := h.q.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
	for done := 0; done < events; {
		batch := make([]notification.Event, 0, 500)
		for ; len(batch) < 500 && done < events; done++ {
			batch = append(batch, event(b, "bench", notification.InvoicePaid, time.Now()))
		}
		h.publish(b, batch...)
	}
	want := int64(events * endpoints)
	b.ResetTimer()
	start := time.Now()
	if err := h.q.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Minute); got.Load() < want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d deliveries in 10 minutes", got.Load(), want)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "deliveries/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWebhookFanOut measures one maximal fan-out: an event of the
// largest size invoicing publishes to 200 endpoints of one tenant, taken
// by the webhooks inbox in one transaction (workers stopped). Reported:
// Go bytes allocated per fan-out (B/op), bytes the webhook tables grew by
// per fan-out (stored-B/op), and the process's peak RSS (peak-RSS-MB).
func BenchmarkWebhookFanOut(b *testing.B) {
	const endpoints = 200
	h := newHarness(b, notifypg.WebhookConfig{MaxEndpoints: endpoints})
	if err := h.q.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
	for i := range endpoints {
		h.register(b, "bench", fmt.Sprintf("http://127.0.0.1:9/%d", i), "*")
	}
	evs := make([]notification.Event, b.N)
	for i := range evs {
		evs[i] = bigEvent(b, "bench", largestEvent)
	}
	before := webhookBytes(b, h.pool)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.publish(b, evs[i])
	}
	b.StopTimer()
	b.ReportMetric(float64(webhookBytes(b, h.pool)-before)/float64(b.N), "stored-B/op")
	b.ReportMetric(peakRSS()/(1<<20), "peak-RSS-MB")
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM),
// or 0 where /proc does not say.
func peakRSS() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}
