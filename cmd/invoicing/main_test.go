package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// env returns a getenv over fixed values, so tests never read the real
// environment. NATS_URL is noNATS unless kv sets it.
func env(kv map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := kv[k]; ok || k != "NATS_URL" {
			return v
		}
		return noNATS
	}
}

// noNATS is the NATS_URL of a test that names none: a port where nothing
// listens. The program's default is the machine's shared server, whose
// INVOICING stream developers read; a test that runs the relay must bring
// its own server (natstest), or its events must go nowhere.
const noNATS = "nats://127.0.0.1:1"

func TestConfigInvalidValuesNameTheVariable(t *testing.T) {
	_, err := loadConfig(env(map[string]string{"RELAY_POLL_INTERVAL": "soon", "NATS_STREAM_REPLICAS": "9", "LOG_LEVEL": "loud"}))
	if err == nil {
		t.Fatal("loadConfig accepted invalid values")
	}
	for _, name := range []string{"RELAY_POLL_INTERVAL", "NATS_STREAM_REPLICAS", "LOG_LEVEL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.ShutdownTimeout != 15*time.Second || c.Invoicing.RelayConfig.Retention != 168*time.Hour || !c.Invoicing.Relay {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("want usage error naming the command, got %v", err)
	}
	// Whatever the environment holds: a mistyped command is what to fix
	// first, and exits 2, not 1 as an invalid configuration.
	err = run(context.Background(), []string{"serv"}, badEnv, io.Discard)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "serv") {
		t.Errorf("an unknown command with an invalid environment: %v, want a usage error naming it", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine to write while
// the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeEndToEnd runs the real program: migrate, create a key, serve on :0,
// then create, issue, pay and read an invoice over HTTP, then shut down.
func TestServeEndToEnd(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "RELAY_ENABLED": "false"})
	ctx := context.Background()

	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "up"}, getenv, &out); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"apikey", "create", "--tenant", "acme"}, getenv, &out); err != nil {
		t.Fatalf("apikey create: %v", err)
	}
	key := lastLine(out.String())

	sctx, stop := context.WithCancel(ctx)
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, getenv, logs) }()
	c := client{t: t, base: "http://" + waitListening(t, logs, done), key: key}

	inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":2,"unit_amount":5000,"tax_rate_bps":2000}]}`, 201)
	id := inv["id"].(string)
	c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
	c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":12000,"reference":"psp_1"}`, 200)
	got := c.call("GET", "/v1/invoices/"+id, ``, 200)
	if got["status"] != "paid" || got["amount_due"] != float64(0) || !strings.HasPrefix(got["number"].(string), "INV-") {
		t.Fatalf("unexpected invoice after payment: %v", got)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s of cancellation")
	}
}

// waitListening returns the address serve logged it listens on.
func waitListening(t *testing.T, logs *syncBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				return line.Addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited before listening: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not log its address within 15s:\n%s", logs.String())
	return ""
}

// client calls the API of a served program with one tenant's key.
type client struct {
	t    *testing.T
	base string
	key  string
}

// call sends body (JSON, or nothing if empty) and fails the test unless the
// status is wantStatus; it returns the decoded JSON object.
func (c client) call(method, path, body string, wantStatus int) map[string]any {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s: status %d, want %d: %v", method, path, resp.StatusCode, wantStatus, m)
	}
	return m
}

// lastLine returns the last non-empty line of s (where apikey create prints the key).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
