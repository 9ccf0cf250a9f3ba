package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/infra/postgres/pgtest"
)

// TestServeWithEmbeddedNATS runs serve with NATS_URL=embedded: it must warn
// that this is for development, keep its JetStream store in
// NATS_EMBEDDED_DIR, and publish a payment's invoicing.invoice.paid event to
// its own server on NATS_EMBEDDED_ADDR, where notify's NATS_URL=embedded
// finds it too.
func TestServeWithEmbeddedNATS(t *testing.T) {
	natsAddr, dir := freePort(t), t.TempDir()
	vars := map[string]string{
		"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "RELAY_POLL_INTERVAL": "1m",
		"NATS_URL": "embedded", "NATS_EMBEDDED_ADDR": natsAddr, "NATS_EMBEDDED_DIR": dir,
	}
	getenv := env(vars)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key := newAPIKey(ctx, t, getenv)

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, getenv, logs) }()
	c := client{t: t, base: "http://" + waitListening(t, logs, done), key: key}
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"NATS_URL=embedded: a NATS server runs inside this process, for development only`) {
		t.Errorf("serve with NATS_URL=embedded logged no warning against production use:\n%s", logs.String())
	}

	if got := embeddedClient(mustConfig(t, getenv)).NATSURL; got != "nats://"+natsAddr {
		t.Fatalf("notify's NATS_URL=embedded connects to %s, want nats://%s", got, natsAddr)
	}
	cons := paidConsumer(ctx, t, "nats://"+natsAddr)
	inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":1,"unit_amount":5000}]}`, 201)
	id := inv["id"].(string)
	c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
	c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":5000,"reference":"psp_1"}`, 200)
	msg, err := cons.Next(jetstream.FetchMaxWait(20 * time.Second))
	if err != nil {
		t.Fatalf("no invoicing.invoice.paid event on the embedded server: %v\nserve's log:\n%s", err, logs.String())
	}
	if !strings.Contains(string(msg.Data()), id) {
		t.Errorf("paid event %s is not the invoice %s's", msg.Data(), id)
	}
	if _, err := os.Stat(filepath.Join(dir, "jetstream")); err != nil {
		t.Errorf("no JetStream store in NATS_EMBEDDED_DIR: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	// Shut down with serve: the port is free again.
	ln, err := net.Listen("tcp", natsAddr)
	if err != nil {
		t.Fatalf("the embedded server still holds NATS_EMBEDDED_ADDR after serve returned: %v", err)
	}
	ln.Close()
}

// TestEmbeddedNATSRefusesATakenPort: a NATS server already on
// NATS_EMBEDDED_ADDR (the machine's own, say) fails start-up at once, naming
// the variable.
func TestEmbeddedNATSRefusesATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, cmd := range []string{"serve", "relay"} {
		err := run(context.Background(), []string{cmd}, env(map[string]string{
			"HTTP_ADDR": "127.0.0.1:0", "DATABASE_URL": "postgres://postgres@" + freePort(t) + "/x?sslmode=disable",
			"NATS_URL": "embedded", "NATS_EMBEDDED_ADDR": taken.Addr().String(), "NATS_EMBEDDED_DIR": t.TempDir(),
		}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "NATS_EMBEDDED_ADDR") {
			t.Errorf("%s: error %v, want one naming NATS_EMBEDDED_ADDR", cmd, err)
		}
	}
}

// mustConfig returns the configuration getenv describes, or fails the test.
func mustConfig(t *testing.T, getenv func(string) string) config {
	t.Helper()
	cfg, err := loadConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
