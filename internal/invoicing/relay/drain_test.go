package relay_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// counts is what countingMetrics has added up.
type counts struct {
	leading                             []bool
	batches, rounds                     int
	stored, rejected, unavailable, park int
	stages                              [5]int // records seen per relay.Stage
}

// countingMetrics is a relay.Metrics that adds everything up.
type countingMetrics struct {
	mu sync.Mutex
	counts
	// marked, if not nil, is closed once markWant records are marked
	// published (see untilMarked).
	markWant int
	marked   chan struct{}
}

// untilMarked returns a countingMetrics whose marked channel is closed once
// the relay has marked n records published.
func untilMarked(n int) *countingMetrics {
	return &countingMetrics{markWant: n, marked: make(chan struct{})}
}

func (m *countingMetrics) Leading(l bool) {
	m.mu.Lock()
	m.leading = append(m.leading, l)
	m.mu.Unlock()
}
func (m *countingMetrics) Batch(int) { m.mu.Lock(); m.batches++; m.mu.Unlock() }
func (m *countingMetrics) Parked()   { m.mu.Lock(); m.park++; m.mu.Unlock() }
func (m *countingMetrics) Stage(s relay.Stage, _ time.Duration) {
	m.mu.Lock()
	m.stages[s]++
	if s == relay.StageMark && m.marked != nil && m.stages[s] == m.markWant {
		close(m.marked)
	}
	m.mu.Unlock()
}
func (m *countingMetrics) Round(_ time.Duration, s, r, u int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rounds++
	m.stored, m.rejected, m.unavailable = m.stored+s, m.rejected+r, m.unavailable+u
}

func (m *countingMetrics) snapshot() counts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counts
	c.leading = append([]bool(nil), m.leading...)
	return c
}

// TestDrainPublishesWhatIsPendingThenReleasesTheLead commits a backlog the
// relay has not seen (a one-minute poll, no wake-up), drains, and expects
// Run to return with every event published and the lead free for another.
func TestDrainPublishesWhatIsPendingThenReleasesTheLead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	m := &countingMetrics{}
	cfg := fastConfig()
	cfg.PollInterval, cfg.BatchSize, cfg.Metrics = time.Minute, 7, m // several full batches
	r := h.start(ctx, cfg, invoicingnats.StreamConfig{}, nil)
	eventually(t, 10*time.Second, "the relay leads", func() bool { s := m.snapshot(); return len(s.leading) == 1 })
	time.Sleep(100 * time.Millisecond) // into its one-minute wait

	repo := invoicingpg.NewInvoices(h.pool) // no wake-up: only Drain moves these
	for range 10 {
		inv := h.newInvoice(repo)
		h.update(repo, inv.ID(), addLine(1))
	}
	r.Drain()
	select {
	case err := <-r.done:
		close(r.done)
		if err != nil {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of Drain")
	}
	if n := h.unpublished(); n != 0 {
		t.Fatalf("%d events unpublished after the drain", n)
	}
	checkExactlyOnceInOrder(t, h.stream(), 20)
	s := m.snapshot()
	if len(s.leading) != 2 || !s.leading[0] || s.leading[1] || s.stored != 20 || s.rejected+s.unavailable+s.park != 0 || s.batches < 3 {
		t.Errorf("metrics = %+v; want leading true then false, 20 stored in 3+ batches, no failure", s)
	}
	// Every record goes through every stage once, marking included.
	if s.stages != [5]int{20, 20, 20, 20, 20} {
		t.Errorf("records per stage = %v, want 20 in each of %v", s.stages, relay.Stages())
	}

	// The lead was released: another relay takes it at once.
	other := &countingMetrics{}
	cfg.Metrics = other
	h.start(ctx, cfg, invoicingnats.StreamConfig{}, nil)
	eventually(t, 5*time.Second, "a second relay leads", func() bool { return len(other.snapshot().leading) == 1 })
}

// TestDrainStopsAStandbyAtOnce: a relay that does not lead has nothing to
// drain.
func TestDrainStopsAStandbyAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	lm := &countingMetrics{}
	cfg := fastConfig()
	cfg.Metrics = lm
	h.start(ctx, cfg, invoicingnats.StreamConfig{}, nil)
	eventually(t, 10*time.Second, "the first relay leads", func() bool { return len(lm.snapshot().leading) == 1 })
	sm := &countingMetrics{}
	cfg.Metrics = sm
	standby := h.start(ctx, cfg, invoicingnats.StreamConfig{}, nil)
	time.Sleep(300 * time.Millisecond) // a few failed tries for the lead
	standby.Drain()
	select {
	case <-standby.done:
		close(standby.done)
	case <-time.After(2 * time.Second):
		t.Fatal("a standby did not return within 2s of Drain")
	}
	if s := sm.snapshot(); len(s.leading) != 0 {
		t.Errorf("the standby led: %v", s.leading)
	}
}

// TestTraceReachesTheCloudEventAndTheHeaders writes a change under a request's
// trace and reads it back from the stream.
func TestTraceReachesTheCloudEventAndTheHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.start(context.Background(), fastConfig(), invoicingnats.StreamConfig{}, nil)
	repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(r.Wake))
	eventually(t, 10*time.Second, "the relay created the stream", func() bool {
		_, err := h.js.Stream(context.Background(), invoicingnats.DefaultStream)
		return err == nil
	})
	inv := h.newInvoice(repo) // no trace
	trace := outbox.Trace{CorrelationID: "req-42", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", TraceState: "congo=t61rcWkgMzE"}
	_, err := repo.Update(app.WithTrace(context.Background(), trace), h.tenant, inv.ID(), app.ChangeOptions{},
		func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
			return app.Result{}, addLine(1)(inv)
		})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []streamed
	eventually(t, 10*time.Second, "2 events are in the stream", func() bool { msgs = h.stream(); return len(msgs) == 2 })

	untraced, traced := msgs[0], msgs[1]
	if untraced.CorrelationID != "" || untraced.TraceParent != "" || untraced.TraceState != "" ||
		untraced.Header.Get("traceparent") != "" || untraced.Header.Get("Correlation-Id") != "" {
		t.Errorf("an event without trace got one: %+v, headers %v", untraced.Event, untraced.Header)
	}
	if got := (outbox.Trace{CorrelationID: traced.CorrelationID, TraceParent: traced.TraceParent, TraceState: traced.TraceState}); got != trace {
		t.Errorf("CloudEvent trace = %+v, want %+v", got, trace)
	}
	for name, want := range map[string]string{"Correlation-Id": trace.CorrelationID, "traceparent": trace.TraceParent, "tracestate": trace.TraceState} {
		if v := traced.Header.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
}
