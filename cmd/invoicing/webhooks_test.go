package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// hookReceiver is a webhook receiver on loopback recording each request.
type hookReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, hookRequest{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.got...)
}

// TestServeDeliversWebhooksEndToEnd registers endpoints over HTTP against
// the real program (relay, notification consumer and webhook workers
// inside, its own embedded NATS), pays an invoice, and checks what the
// receivers on loopback got: the paid event, signed so that the Standard
// Webhooks library verifies it; the filter; nothing across tenants.
func TestServeDeliversWebhooksEndToEnd(t *testing.T) {
	base, keys, stop := startWebhookServe(t, "acme", "globex")
	acme := client{t: t, base: base, key: keys["acme"]}
	globex := client{t: t, base: base, key: keys["globex"]}

	paidOnly, all, other := newHookReceiver(t), newHookReceiver(t), newHookReceiver(t)
	ep := acme.call("POST", "/v1/webhook_endpoints", `{"url":"`+paidOnly.URL+`","enabled_events":["invoicing.invoice.paid"]}`, 201)
	acme.call("POST", "/v1/webhook_endpoints", `{"url":"`+all.URL+`","enabled_events":["*"]}`, 201)
	globex.call("POST", "/v1/webhook_endpoints", `{"url":"`+other.URL+`","enabled_events":["*"]}`, 201)
	globex.call("GET", "/v1/webhook_endpoints/"+ep["id"].(string), ``, 404)
	globex.call("PATCH", "/v1/webhook_endpoints/"+ep["id"].(string), `{"status":"disabled"}`, 404)

	inv := acme.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR",
		"lines":[{"description":"Consulting","quantity":2,"unit_amount":750,"tax_rate_bps":0}]}`, 201)
	id := inv["id"].(string)
	acme.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
	acme.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":1500,"reference":"psp_1"}`, 200)
	ids := eventIDs(acme, id)

	for deadline := time.Now().Add(time.Minute); len(all.requests()) < len(ids) || len(paidOnly.requests()) < 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("in a minute the catch-all endpoint got %d of %d events, the paid-only one %d", len(all.requests()), len(ids), len(paidOnly.requests()))
		}
	}
	time.Sleep(500 * time.Millisecond) // room for a wrong delivery to show
	got := paidOnly.requests()
	if len(got) != 1 {
		t.Fatalf("the paid-only endpoint got %d requests, want 1", len(got))
	}
	wh, err := standardwebhooks.NewWebhook(ep["secret"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got[0].body, got[0].header); err != nil {
		t.Errorf("the Standard Webhooks library rejects the delivery: %v", err)
	}
	var ev struct{ ID, Type, Subject string }
	if err := json.Unmarshal(got[0].body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "invoicing.invoice.paid" || ev.ID != ids["invoicing.invoice.paid"] || ev.Subject != id ||
		got[0].header.Get("webhook-id") != ev.ID {
		t.Errorf("delivered %+v with webhook-id %q, want the paid event %s of %s", ev, got[0].header.Get("webhook-id"), ids["invoicing.invoice.paid"], id)
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("globex's endpoint got %d of acme's events", n)
	}
	ds := acme.call("GET", "/v1/webhook_endpoints/"+ep["id"].(string)+"/deliveries", ``, 200)["data"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["event_id"] != ev.ID {
		t.Errorf("deliveries %v, want the paid event's", ds)
	}
	// Every request the receivers answered 2xx is an attempt measured.
	attempts := map[string]uint64{}
	for _, m := range metricFamilies(t, base)["notification_webhook_attempt_duration_seconds"].GetMetric() {
		attempts[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
	}
	if want := uint64(len(all.requests()) + len(got)); attempts["succeeded"] != want || attempts["failed"] != 0 {
		t.Errorf("webhook attempts measured %v, want %d succeeded, 0 failed", attempts, want)
	}

	stop()
}

// startWebhookServe is startNotifyingServe with the webhook workers inside
// too, private URLs allowed for receivers on loopback.
func startWebhookServe(t *testing.T, tenants ...string) (base string, keys map[string]string, stop func()) {
	t.Helper()
	return startNotifyingServe(t, map[string]string{"WEBHOOKS_ENABLED": "true", "WEBHOOK_ALLOW_PRIVATE_URLS": "true"}, tenants...)
}

// TestNotifyWithWebhooksChecksAndMeasuresThem: notify with WEBHOOKS_ENABLED
// reports its webhooks consumer in /readyz (failed until the stream exists,
// then ok) and its delivery tasks in /metrics.
func TestNotifyWithWebhooksChecksAndMeasuresThem(t *testing.T) {
	ns := natstest.New(t)
	getenv := env(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": ns.URL(), "WEBHOOKS_ENABLED": "true"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	base, stop := startCommand(t, getenv, "notify")
	check := func() struct{ Status, Reason string } {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Checks map[string]struct{ Status, Reason string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return body.Checks["webhooks"]
	}
	if c := check(); c.Status != "failed" || !strings.Contains(c.Reason, "webhooks") {
		t.Errorf("webhooks check without a stream = %+v, want failed naming the consumer", c)
	}
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "INVOICING", Subjects: []string{"invoicing.>"}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); check().Status != "ok"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("webhooks check still %+v a minute after the stream was created", check())
		}
	}
	wantMetric(t, base, `notification_webhook_tasks{state="scheduled"} 0`, "notification_webhook_tasks")
	stop()
}
