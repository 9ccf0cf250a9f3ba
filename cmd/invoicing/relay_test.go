package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestServePublishesPaidEventEndToEnd pays an invoice over HTTP against the
// real program with its in-process relay, and reads the invoicing.invoice.paid
// CloudEvent from the test's own JetStream server.
func TestServePublishesPaidEventEndToEnd(t *testing.T) {
	natsURL := natstest.New(t).URL()
	dbURL := pgtest.NewURL(t)
	// A long poll interval proves the commit's wake-up, not the poll, moves it.
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": natsURL, "RELAY_POLL_INTERVAL": "1m"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	key := newAPIKey(ctx, t, getenv)

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, getenv, logs) }()
	c := client{t: t, base: "http://" + waitListening(t, logs, done), key: key}

	cons := paidConsumer(ctx, t, natsURL)

	inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":2,"unit_amount":5000,"tax_rate_bps":2000}]}`, 201)
	id := inv["id"].(string)
	issued := c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
	c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":12000,"reference":"psp_1"}`, 200)
	paidAt := time.Now()

	msg, err := cons.Next(jetstream.FetchMaxWait(20 * time.Second))
	if err != nil {
		t.Fatalf("no invoicing.invoice.paid event for %s: %v\nserve's log:\n%s", id, err, logs.String())
	}
	var ce struct {
		ID, Type, Subject, Source, Specversion string
		Data                                   struct {
			InvoiceID  string `json:"invoice_id"`
			Number     string
			Total      int64
			AmountPaid int64 `json:"amount_paid"`
			Currency   string
		}
	}
	if err := json.Unmarshal(msg.Data(), &ce); err != nil {
		t.Fatalf("event is not JSON: %v", err)
	}
	if ce.Type != "invoicing.invoice.paid" || ce.Subject != id || ce.Specversion != "1.0" || ce.Source != "/invoicing" ||
		ce.Data.InvoiceID != id || ce.Data.Number != issued["number"] || ce.Data.Total != 12000 ||
		ce.Data.AmountPaid != 12000 || ce.Data.Currency != "EUR" {
		t.Fatalf("unexpected paid event: %s", msg.Data())
	}
	if got := msg.Headers().Get("Nats-Msg-Id"); got != ce.ID {
		t.Fatalf("Nats-Msg-Id %q, want the CloudEvent id %q", got, ce.ID)
	}
	t.Logf("paid event arrived %s after the payment response", time.Since(paidAt))
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// migrateWithKey migrates the database getenv names with the program, then
// creates an API key of tenant acme and returns it.
func migrateWithKey(ctx context.Context, t *testing.T, getenv func(string) string) string {
	t.Helper()
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	return newAPIKey(ctx, t, getenv)
}

// newAPIKey creates an API key of tenant acme with the program and returns it.
func newAPIKey(ctx context.Context, t *testing.T, getenv func(string) string) string {
	t.Helper()
	var out strings.Builder
	if err := run(ctx, []string{"apikey", "create", "--tenant", "acme"}, getenv, &out); err != nil {
		t.Fatalf("apikey create: %v", err)
	}
	return lastLine(out.String())
}

// paidConsumer returns an ordered consumer of the invoicing.invoice.paid
// events on natsURL, once the relay has created the stream.
func paidConsumer(ctx context.Context, t *testing.T, natsURL string) jetstream.Consumer {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := waitStream(ctx, t, js).OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"invoicing.invoice.paid"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cons
}

// waitStream returns the INVOICING stream once the relay has created it.
func waitStream(ctx context.Context, t *testing.T, js jetstream.JetStream) jetstream.Stream {
	t.Helper()
	for {
		s, err := js.Stream(ctx, "INVOICING")
		if err == nil {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream INVOICING never appeared: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
