package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestBenchNotifyFanOutRSS measures the resident memory of the real notify
// process (the built binary, its own embedded NATS) while it fans one event
// of the largest size the relay publishes out to WEBHOOK_FANOUT_ENDPOINTS
// endpoints (default 200) of one tenant and delivers it to each, on
// loopback. Like the other end-to-end benchmarks it runs only with
// INVOICING_BENCH=1; it reports idle and peak RSS to WEBHOOK_FANOUT_OUT.
func TestBenchNotifyFanOutRSS(t *testing.T) {
	if os.Getenv("INVOICING_BENCH") != "1" {
		t.Skip("a benchmark: set INVOICING_BENCH=1 (make bench)")
	}
	endpoints := envInt("WEBHOOK_FANOUT_ENDPOINTS", 200)
	ns := natstest.New(t)
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "NATS_URL": ns.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer rcv.Close()
	execSQL(t, dbURL, fmt.Sprintf(`INSERT INTO notification.webhook_endpoints (id, tenant_id, url, enabled_events, secret)
		SELECT gen_random_uuid(), 'bench', '%s/' || i, '{*}', '%s' FROM generate_series(1, %d) AS i`, rcv.URL, webhook.NewSecret(), endpoints))

	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "INVOICING", Subjects: []string{"invoicing.>"}}); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, buildBinary(t), map[string]string{"DATABASE_URL": dbURL, "NATS_URL": ns.URL(), "HTTP_ADDR": "127.0.0.1:0",
		"WEBHOOKS_ENABLED": "true", "WEBHOOK_ALLOW_PRIVATE_URLS": "true"}, "notify")
	select {
	case <-p.addr:
	case err := <-p.exit:
		t.Fatalf("notify exited before listening: %v\n%s", err, p.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("notify did not listen within 30s\n%s", p.logs)
	}
	time.Sleep(2 * time.Second) // settle: consumers bound, first prune run
	idle := procKB(t, p.cmd.Process.Pid, "VmRSS")

	filler := make([]byte, (relay.MaxEventBytes-1024)*3/4) // room for the envelope and headers
	_, _ = rand.Read(filler)
	body := fmt.Sprintf(`{"specversion":"1.0","id":"019ad1c2-0000-7000-8000-%012d","source":"/invoicing","type":"invoicing.invoice.issued",
		"subject":"019ad1c2-0000-7000-8000-0000000000aa","time":"2026-11-30T10:00:00Z","datacontenttype":"application/json","tenantid":"bench",
		"sequence":"1","invoiceversion":1,"data":{"invoice_id":"019ad1c2-0000-7000-8000-0000000000aa","note":%q}}`,
		time.Now().UnixNano()%1e12, base64.StdEncoding.EncodeToString(filler))
	start := time.Now()
	if _, err := js.Publish(ctx, "invoicing.invoice.issued", []byte(body)); err != nil {
		t.Fatal(err)
	}
	peak := idle
	for deadline := time.Now().Add(3 * time.Minute); got.Load() < int64(endpoints); time.Sleep(10 * time.Millisecond) {
		peak = max(peak, procKB(t, p.cmd.Process.Pid, "VmRSS"))
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries in 3 minutes\n%s", got.Load(), endpoints, p.logs)
		}
	}
	took := time.Since(start)
	peak = max(peak, procKB(t, p.cmd.Process.Pid, "VmRSS"))
	hwm := procKB(t, p.cmd.Process.Pid, "VmHWM")
	report := fmt.Sprintf("notify, one event of %d bytes to %d endpoints, fanned out and delivered in %s:\n"+
		"  RSS idle %.1f MB, highest sampled (every 10ms) %.1f MB, peak (VmHWM) %.1f MB\n",
		len(body), endpoints, took.Round(time.Millisecond), float64(idle)/1024, float64(peak)/1024, float64(hwm)/1024)
	t.Log(report)
	if out := os.Getenv("WEBHOOK_FANOUT_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exit
}

// procKB returns a field of /proc/PID/status given in kB (VmRSS, VmHWM).
func procKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}
