package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// The webhook faults, in the fault suite's style: the built binary
// (`invoicing notify` with WEBHOOKS_ENABLED) while a receiver is down, and
// under kill -9 during a burst; then every receiver must hold every event at
// least once, each duplicate under its event's webhook-id. They run only
// with INVOICING_FAULT=1:
//
//	INVOICING_FAULT=1 go test -count=1 -run '^TestFaultWebhook' -v ./cmd/invoicing
//
// Figures of a run: docs/reliability.md.

// faultReceiver is a webhook receiver on a fixed loopback port that can go
// down (its listener closed: connections are refused) and come back.
type faultReceiver struct {
	t    *testing.T
	addr string
	srv  *http.Server
	mu   sync.Mutex
	got  map[string]int // by webhook-id
	last time.Time      // of the last first delivery
}

func newFaultReceiver(t *testing.T) *faultReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &faultReceiver{t: t, addr: ln.Addr().String(), got: map[string]int{}}
	r.serve(ln)
	t.Cleanup(func() { r.down() })
	return r
}

func (r *faultReceiver) serve(ln net.Listener) {
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev struct{ ID string }
		_ = json.Unmarshal(body, &ev)
		id := req.Header.Get(webhook.HeaderID)
		if ev.ID != id {
			r.t.Errorf("webhook-id %q on the body of event %q", id, ev.ID)
		}
		r.mu.Lock()
		if r.got[id] == 0 {
			r.last = time.Now()
		}
		r.got[id]++
		r.mu.Unlock()
	})}
	go func() { _ = r.srv.Serve(ln) }()
}

func (r *faultReceiver) down() { _ = r.srv.Close() }

func (r *faultReceiver) up() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.serve(ln)
}

// check waits until the receiver holds every id (or the bound passes), then
// reports and fails on a missing one.
func (r *faultReceiver) check(name string, ids []string, start time.Time) {
	r.t.Helper()
	count := func() (delivered, requests, missing int, last time.Time) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, id := range ids {
			if r.got[id] == 0 {
				missing++
			}
		}
		for _, n := range r.got {
			requests += n
		}
		return len(r.got), requests, missing, r.last
	}
	deadline := time.Now().Add(3 * time.Minute)
	delivered, requests, missing, last := count()
	for ; missing > 0 && time.Now().Before(deadline); delivered, requests, missing, last = count() {
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Logf("%s: expected %d, delivered %d (distinct webhook-ids), duplicates %d, missing %d; the last first delivery %s after the run began",
		name, len(ids), delivered, requests-delivered, missing, last.Sub(start).Round(time.Millisecond))
	if missing > 0 || delivered != len(ids) {
		r.t.Errorf("%s: %d events missing, %d unexpected webhook-ids", name, missing, delivered-len(ids)+missing)
	}
}

// newWebhookRig is newNotifyRig with webhooks on, short retries, and two
// endpoints of tenant "t" (the rig's events' tenant) at two receivers.
func newWebhookRig(t *testing.T) (*notifyRig, *faultReceiver, *faultReceiver) {
	r := newNotifyRig(t)
	for k, v := range map[string]string{
		"WEBHOOKS_ENABLED": "true", "WEBHOOK_ALLOW_PRIVATE_URLS": "true", "WEBHOOK_TIMEOUT": "2s",
		"WEBHOOK_RETRY_SCHEDULE": "200ms,500ms,1s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s",
	} {
		r.vars[k] = v
	}
	a, b := newFaultReceiver(t), newFaultReceiver(t)
	conn, err := pgx.Connect(context.Background(), r.vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, rc := range []*faultReceiver{a, b} {
		_, err := conn.Exec(context.Background(), `INSERT INTO notification.webhook_endpoints (id, tenant_id, url, enabled_events, secret)
			VALUES ($1, 't', $2, '{*}', $3)`, uuid.Must(uuid.NewV7()), "http://"+rc.addr+"/hook", webhook.NewSecret())
		if err != nil {
			t.Fatal(err)
		}
	}
	return r, a, b
}

func TestFaultWebhookReceiverDown(t *testing.T) {
	r, a, b := newWebhookRig(t)
	p := r.start()
	defer func() { _ = p.cmd.Process.Kill() }()
	start := time.Now()
	a.down()
	ids := r.publish(context.Background(), 500, 200*time.Millisecond)
	time.Sleep(5 * time.Second) // the outage: every attempt to a meanwhile is refused
	outage := time.Since(start)
	a.up()
	t.Logf("receiver A down for %s while %d events were published; receiver B up", outage.Round(time.Millisecond), len(ids))
	b.check("receiver B", ids, start)
	a.check("receiver A", ids, start)
}

func TestFaultWebhookKill9DuringABurst(t *testing.T) {
	r, a, b := newWebhookRig(t)
	ids, start := r.kill9DuringABurst()
	a.check("receiver A", ids, start)
	b.check("receiver B", ids, start)
}
