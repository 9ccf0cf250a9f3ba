package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/infra/postgres/pgtest"
)

// machineNATS returns the URL of the machine's NATS server, failing the test
// (or skipping it under -short) if it cannot be reached.
func machineNATS(t *testing.T) string {
	t.Helper()
	url := os.Getenv("TEST_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := natsgo.Connect(url, natsgo.Timeout(2*time.Second))
	if err != nil {
		if testing.Short() {
			t.Skipf("NATS not reachable at %s (-short): %v", url, err)
		}
		t.Fatalf("NATS with JetStream is not reachable at %s: %v\nstart it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log", url, err)
	}
	nc.Close()
	return url
}

// TestServePublishesPaidEventEndToEnd pays an invoice over HTTP against the
// real program with its in-process relay, and reads the invoicing.invoice.paid
// CloudEvent from the machine's JetStream server.
func TestServePublishesPaidEventEndToEnd(t *testing.T) {
	natsURL := machineNATS(t)
	dbURL := pgtest.NewURL(t)
	// A long poll interval proves the commit's wake-up, not the poll, moves it.
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": natsURL, "RELAY_POLL_INTERVAL": "1m"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var out strings.Builder
	if err := run(ctx, []string{"apikey", "create", "--tenant", "acme"}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("apikey create: %v", err)
	}
	key := lastLine(out.String())

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, getenv, logs, io.Discard) }()
	c := client{t: t, base: "http://" + waitListening(t, logs, done), key: key}

	nc, err := natsgo.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream := waitStream(ctx, t, js)
	// Start from a time before the invoice exists, not "new": an ordered
	// consumer is created on the server only at the first Next, and the relay
	// may publish before that.
	start := time.Now()
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"invoicing.invoice.paid"},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &start,
	})
	if err != nil {
		t.Fatal(err)
	}

	inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":2,"unit_amount":5000,"tax_rate_bps":2000}]}`, 201)
	id := inv["id"].(string)
	issued := c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
	c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":12000,"reference":"psp_1"}`, 200)
	paidAt := time.Now()

	for {
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
		if ce.Subject != id {
			continue // another test's invoice on the shared stream
		}
		if ce.Type != "invoicing.invoice.paid" || ce.Specversion != "1.0" || ce.Source != "/invoicing" ||
			ce.Data.InvoiceID != id || ce.Data.Number != issued["number"] || ce.Data.Total != 12000 ||
			ce.Data.AmountPaid != 12000 || ce.Data.Currency != "EUR" {
			t.Fatalf("unexpected paid event: %s", msg.Data())
		}
		if got := msg.Headers().Get("Nats-Msg-Id"); got != ce.ID {
			t.Fatalf("Nats-Msg-Id %q, want the CloudEvent id %q", got, ce.ID)
		}
		t.Logf("paid event arrived %s after the payment response", time.Since(paidAt))
		break
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
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
