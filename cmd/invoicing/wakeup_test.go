package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestServeReplicasWakeTheLeader runs three serve replicas on one database
// and one broker, and pays invoices through the two that do not lead: each
// paid event must reach the stream well before the 10 s poll, so the commit
// on another process woke the leader, and the p99 of the delays must stay
// within 2 s. Both bounds are behaviour checks, generous for a loaded
// machine, not speed targets: bench/replicas.sh measures the delay against
// its 25 ms target. Under a parallel test run on two cores a payment's
// delay still reaches a few hundred milliseconds at times; a missed
// wake-up costs the 10 s poll.
func TestServeReplicasWakeTheLeader(t *testing.T) {
	const followerP99Bound = 2 * time.Second
	natsURL := natstest.New(t).URL()
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": natsURL, "RELAY_POLL_INTERVAL": "10s"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	key := newAPIKey(ctx, t, getenv)

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var clients []client
	var dones []chan error
	var logs []*syncBuffer
	for i := 0; i < 3; i++ {
		l := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(sctx, []string{"serve"}, getenv, l) }()
		clients = append(clients, client{t: t, base: "http://" + waitListening(t, l, done), key: key})
		dones, logs = append(dones, done), append(logs, l)
		if i == 0 {
			// The first replica leads; the others start once it does.
			for !strings.Contains(l.String(), `"relay: leading"`) {
				if ctx.Err() != nil {
					t.Fatalf("the first replica never led:\n%s", l.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}

	cons := paidConsumer(ctx, t, natsURL)

	// WAKEUP_PAYMENTS=300 measures the delay; the test needs only a few.
	payments := envInt("WAKEUP_PAYMENTS", 4)
	delays := make([]time.Duration, 0, payments)
	for n := 0; n < payments; n++ {
		c := clients[1+n%2]
		inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":1,"unit_amount":5000,"tax_rate_bps":0}]}`, 201)
		id := inv["id"].(string)
		c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
		c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":5000,"reference":"psp_1"}`, 200)
		paidAt := time.Now()
		msg, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil {
			t.Fatalf("payment %d on replica %d: no invoicing.invoice.paid event within 2s (poll 10s): %v", n, 1+n%2, err)
		}
		if !strings.Contains(string(msg.Data()), id) {
			t.Fatalf("payment %d: got the paid event %s, want invoice %s", n, msg.Data(), id)
		}
		delays = append(delays, time.Since(paidAt))
	}
	slices.Sort(delays)
	if p99 := delays[len(delays)*99/100]; p99 > followerP99Bound {
		t.Errorf("payments on the replicas that do not lead: p99 %s from payment response to paid event, want <= %s (a wake-up missed, left to a later commit or the poll?): %v",
			p99, followerP99Bound, delays)
	}
	t.Logf("%d payments on the replicas that do not lead: payment response to paid event in the stream p50 %s, p99 %s, max %s",
		payments, delays[len(delays)/2], delays[len(delays)*99/100], delays[len(delays)-1])
	stop()
	for i, done := range dones {
		if err := <-done; err != nil {
			t.Fatalf("replica %d: %v\n%s", i, err, logs[i].String())
		}
	}
}
