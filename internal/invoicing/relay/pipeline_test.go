package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// orderCheckingPublisher wraps the real publisher and checks the rule the
// relay's order rests on: an invoice's event is handed to the broker only
// once its previous event was acknowledged, and Publish is never called by
// two goroutines at once. It also rejects the first attempt of every event
// reject picks, as a broker may, so that later batches already read hold
// events of an invoice whose earlier event failed.
type orderCheckingPublisher struct {
	relay.Publisher
	reject func(version int64) bool

	mu         sync.Mutex
	calls      int
	acked      map[string]int64 // invoice → highest version acknowledged
	tried      map[string]bool  // event ids rejected once already
	violations []string
}

func (p *orderCheckingPublisher) Publish(ctx context.Context, msgs []relay.Message) []error {
	events := make([]cloudevent.Event, len(msgs))
	errs := make([]error, len(msgs))
	var send []relay.Message
	var sent []int
	p.mu.Lock()
	p.calls++
	if p.calls > 1 {
		p.violations = append(p.violations, "Publish called while another call was running")
	}
	for i, m := range msgs {
		if err := json.Unmarshal(m.Body, &events[i]); err != nil {
			p.violations = append(p.violations, "undecodable message: "+err.Error())
			continue
		}
		e := events[i]
		if e.InvoiceVersion > p.acked[e.Subject]+1 {
			p.violations = append(p.violations, fmt.Sprintf("invoice %s version %d sent while only version %d was acknowledged",
				e.Subject, e.InvoiceVersion, p.acked[e.Subject]))
		}
		if p.reject(e.InvoiceVersion) && !p.tried[e.ID] {
			p.tried[e.ID] = true
			errs[i] = errors.New("rejected once by the test")
			continue
		}
		send, sent = append(send, m), append(sent, i)
	}
	p.mu.Unlock()

	results := p.Publisher.Publish(ctx, send)

	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls--
	for j, i := range sent {
		errs[i] = results[j]
		if e := events[i]; results[j] == nil && e.InvoiceVersion > p.acked[e.Subject] {
			p.acked[e.Subject] = e.InvoiceVersion
		}
	}
	return errs
}

// TestPipelinedBatchesKeepEachInvoiceInOrder drains a backlog of invoices
// whose events span many small batches, each read while the previous one
// is in flight, with some events rejected once: the next batch, already
// read, then holds later events of their invoices, which must wait.
func TestPipelinedBatchesKeepEachInvoiceInOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const invoices, perInvoice = 30, 20
	seedBacklog(t, h, invoices*perInvoice, perInvoice, true)

	pub, err := invoicingnats.NewPublisher(h.connect(), invoicingnats.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	checker := &orderCheckingPublisher{Publisher: pub, acked: map[string]int64{}, tried: map[string]bool{},
		reject: func(v int64) bool { return v%7 == 3 }}
	cfg := fastConfig()
	cfg.BatchSize = 25 // most of an invoice's next event is in the next batch
	r, err := relay.New(invoicingpg.NewOutbox(h.pool), invoicingpg.NewRelayLeadership(h.pool), checker, cfg, h.log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	eventually(t, 30*time.Second, "every event is published", func() bool { return h.unpublished() == 0 })
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after Close, want nil", err)
	}

	checker.mu.Lock()
	defer checker.mu.Unlock()
	if len(checker.violations) > 0 {
		t.Fatalf("%d order violations, first: %v", len(checker.violations), checker.violations[:min(5, len(checker.violations))])
	}
	if len(checker.tried) == 0 {
		t.Fatal("no event was rejected; the test did not test holding across batches")
	}
	checkExactlyOnceInOrder(t, h.stream(), invoices*perInvoice)
}
