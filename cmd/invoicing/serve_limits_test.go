package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestServeCutsOffSlowHeaders runs the real server and sends a request whose
// headers never end (slow loris): the server must close the connection once
// its header read timeout passes, instead of holding it open.
func TestServeCutsOffSlowHeaders(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "RELAY_ENABLED": "false"})
	ctx, stop := context.WithCancel(context.Background())
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, logs) }()
	t.Cleanup(func() {
		stop()
		<-done
	})
	addr := waitListening(t, logs, done)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /v1/invoices HTTP/1.1\r\nHost: invoicing\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, _ = io.Copy(io.Discard, conn) // returns when the server closes the connection
	if held := time.Since(start); held > 10*time.Second {
		t.Fatalf("the server held a connection with unfinished headers for %s", held)
	}
}

// TestServeAndRelayRefuseOversizedHeaders sends a request whose headers
// exceed the documented limit to serve's server and to relay's operational
// server: each must answer 431 rather than buffer the headers whole.
func TestServeAndRelayRefuseOversizedHeaders(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"RELAY_ENABLED": "false"})
	logs, stop := runRelayCommand(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t), "NATS_URL": natstest.New(t).URL()})
	t.Cleanup(func() { _ = stop() })
	relayBase := "http://" + waitListening(t, logs, nil)

	for name, base := range map[string]string{"serve": s.base, "relay": relayBase} {
		req, err := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Padding", strings.Repeat("a", 100<<10))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s: a 100 KiB header got status %d, want 431", name, res.StatusCode)
		}
	}
}

// TestPoolSizeOfDatabaseURLCounts: DATABASE_URL's pool_max_conns sizes
// serve's pool unless DB_MAX_CONNS is set, which then wins; DB_MAX_CONNS's
// default (20) used to override the URL's setting without a word.
func TestPoolSizeOfDatabaseURLCounts(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	for _, c := range []struct {
		vars map[string]string
		want int32
	}{
		{map[string]string{"DATABASE_URL": dbURL}, 20},
		{map[string]string{"DATABASE_URL": dbURL + "&pool_max_conns=5"}, 5},
		{map[string]string{"DATABASE_URL": dbURL + "&pool_max_conns=5", "DB_MAX_CONNS": "7"}, 7},
		{map[string]string{"DATABASE_URL": dbURL, "DB_MAX_CONNS": "3"}, 3},
	} {
		cfg := mustConfig(t, env(c.vars))
		pool, _, err := invoicingsvc.OpenDatabase(context.Background(), cfg.Invoicing.DatabaseURL, cfg.Invoicing.MaxConns, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("OpenDatabase with %v: %v", c.vars, err)
		}
		if got := pool.Config().MaxConns; got != c.want {
			t.Errorf("pool of %v: max %d connections, want %d", c.vars, got, c.want)
		}
		pool.Close()
	}
}
