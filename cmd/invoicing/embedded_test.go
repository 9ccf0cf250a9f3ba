package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestServeWithEmbeddedNATS runs serve with NATS_URL=embedded: it must keep
// its JetStream store in NATS_EMBEDDED_DIR and publish a payment's
// invoicing.invoice.paid event to its own server on NATS_EMBEDDED_ADDR, where
// notify's NATS_URL=embedded finds it too, and free that port when it stops.
func TestServeWithEmbeddedNATS(t *testing.T) {
	natsAddr, dir := freePort(t), t.TempDir()
	getenv := env(map[string]string{
		"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "RELAY_POLL_INTERVAL": "1m",
		"NATS_URL": "embedded", "NATS_EMBEDDED_ADDR": natsAddr, "NATS_EMBEDDED_DIR": dir,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key := newAPIKey(ctx, t, getenv)
	base, stop := startCommand(t, getenv, "serve")
	c := client{t: t, base: base, key: key}

	if got := mustConfig(t, getenv).NATS.ClientURL(); got != "nats://"+natsAddr {
		t.Fatalf("notify's NATS_URL=embedded connects to %s, want nats://%s", got, natsAddr)
	}
	cons := paidConsumer(ctx, t, "nats://"+natsAddr)
	inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":1,"unit_amount":5000}]}`, 201)
	id := inv["id"].(string)
	c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
	c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":5000,"reference":"psp_1"}`, 200)
	msg, err := cons.Next(jetstream.FetchMaxWait(20 * time.Second))
	if err != nil {
		t.Fatalf("no invoicing.invoice.paid event on the embedded server: %v", err)
	}
	if !strings.Contains(string(msg.Data()), id) {
		t.Errorf("paid event %s is not the invoice %s's", msg.Data(), id)
	}
	if _, err := os.Stat(filepath.Join(dir, "jetstream")); err != nil {
		t.Errorf("no JetStream store in NATS_EMBEDDED_DIR: %v", err)
	}
	stop() // fails the test unless serve returns nil
	ln, err := net.Listen("tcp", natsAddr)
	if err != nil {
		t.Fatalf("the embedded server still holds NATS_EMBEDDED_ADDR after serve returned: %v", err)
	}
	ln.Close()
}

// TestEmbeddedNATSWarnsAgainstProduction: starting the embedded server logs
// a warning that it is for development only, with its URL and store.
func TestEmbeddedNATSWarnsAgainstProduction(t *testing.T) {
	dir := t.TempDir()
	cfg := mustConfig(t, env(map[string]string{"NATS_URL": "embedded", "NATS_EMBEDDED_ADDR": "127.0.0.1:0", "NATS_EMBEDDED_DIR": dir}))
	var logs strings.Builder
	got, stop, err := cfg.NATS.StartEmbedded(newLogger(&logs, slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if !strings.HasPrefix(got.URL, "nats://127.0.0.1:") || strings.HasSuffix(got.URL, ":0") {
		t.Errorf("NATS_URL after start %q, want the server's nats://127.0.0.1:PORT", got.URL)
	}
	var line struct{ Level, Msg, URL, Store string }
	if err := json.Unmarshal([]byte(logs.String()), &line); err != nil || line.Level != "WARN" ||
		!strings.Contains(line.Msg, "for development only: never use it in production") || line.URL != got.URL || line.Store != dir {
		t.Errorf("want one WARN line against production use naming the URL and store, got %q", logs.String())
	}
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

// TestEmbeddedNATSRefusesAStoreInUse: two processes given one
// NATS_EMBEDDED_DIR (on two addresses) would write one JetStream store at
// once; the second refuses, naming the directory, and the store is free
// again once the first stops.
func TestEmbeddedNATSRefusesAStoreInUse(t *testing.T) {
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfgAt := func(addr string) invoicingnats.Env {
		return mustConfig(t, env(map[string]string{"NATS_URL": "embedded", "NATS_EMBEDDED_ADDR": addr, "NATS_EMBEDDED_DIR": dir})).NATS
	}
	_, stopFirst, err := cfgAt(freePort(t)).StartEmbedded(logger)
	if err != nil {
		t.Fatal(err)
	}
	_, stopSecond, err := cfgAt(freePort(t)).StartEmbedded(logger)
	if err == nil {
		stopSecond()
		stopFirst()
		t.Fatal("a second embedded server started on a store in use")
	}
	if !strings.Contains(err.Error(), "NATS_EMBEDDED_DIR "+dir) {
		t.Errorf("second server on the same store: %v, want an error naming NATS_EMBEDDED_DIR %s", err, dir)
	}
	stopFirst()
	_, stopThird, err := cfgAt(freePort(t)).StartEmbedded(logger)
	if err != nil {
		t.Fatalf("the store stays locked after its server stopped: %v", err)
	}
	stopThird()
}
