package relay_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// misconfiguredBroker is a publisher whose broker can never take the
// relay's messages as configured.
type misconfiguredBroker struct{ relay.Publisher }

func (misconfiguredBroker) Prepare(context.Context) error {
	return fmt.Errorf("max_payload 1024 is below %d: %w", relay.MaxEventBytes, relay.ErrMisconfigured)
}

func (misconfiguredBroker) Reconnected(context.Context) <-chan struct{} { return nil }

// TestRunReturnsWhenTheBrokerIsMisconfigured: retrying cannot help, so Run
// gives up the lead and says why, instead of logging forever.
func TestRunReturnsWhenTheBrokerIsMisconfigured(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	leadership := invoicingpg.NewRelayLeadership(h.pool)
	r, err := relay.New(invoicingpg.NewOutbox(h.pool), leadership, misconfiguredBroker{}, fastConfig(), h.log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, relay.ErrMisconfigured) {
			t.Fatalf("Run returned %v, want an error wrapping relay.ErrMisconfigured", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s against a misconfigured broker")
	}
	lease, err := leadership.TryLead(context.Background())
	if err != nil {
		t.Fatalf("TryLead after Run returned: %v; the relay kept the lead", err)
	}
	lease.Release()
}

// TestCloseStopsRunForGood: Close returns once Run has stopped, the lead
// released, and Run returns nil (it stopped as asked); a closed relay does
// not run again. What Run did before Close returned is read from the
// metrics it reported: Run's value reaches the harness's channel only after
// Run returned, so its arrival cannot tell which returned first.
func TestCloseStopsRunForGood(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := &countingMetrics{}
	cfg := fastConfig()
	cfg.Metrics = m
	r := h.start(context.Background(), cfg, invoicingnats.StreamConfig{}, nil)
	eventually(t, 10*time.Second, "the relay leads", func() bool { return len(m.snapshot().leading) == 1 })
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if s := m.snapshot(); len(s.leading) != 2 || s.leading[1] {
		t.Errorf("leading = %v once Close returned, want true then false: Close waits for Run to release the lead", s.leading)
	}
	select {
	case err := <-r.done:
		close(r.done)
		if err != nil {
			t.Fatalf("Run returned %v after Close, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of Close")
	}
	if err := r.Run(context.Background()); !errors.Is(err, relay.ErrClosed) {
		t.Errorf("Run after Close = %v, want relay.ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
