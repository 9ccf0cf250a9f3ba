package relay_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// writeInvoices commits n invoices of events events each (create, then
// lines), from one goroutine per invoice, pausing between commits; it
// returns the first error.
func writeInvoices(h *harness, repo *invoicingpg.Invoices, n, events int, pause time.Duration) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			inv, err := invoice.New(invoice.NewID(), h.tenant, "EUR", invoice.Customer{Name: "Acme", Email: "a@acme.test"},
				time.Time{}, nil, time.Now())
			if err == nil {
				_, err = repo.Add(context.Background(), inv, app.ChangeOptions{}, app.Result{})
			}
			for i := 1; i < events && err == nil; i++ {
				time.Sleep(pause)
				_, err = repo.Update(context.Background(), h.tenant, inv.ID(), app.ChangeOptions{},
					func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
						return app.Result{}, addLine(i)(inv)
					})
			}
			if err != nil {
				errs <- fmt.Errorf("invoice %s: %w", inv.ID(), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func TestRelayDeliversEverythingOnceInOrderAcrossANATSOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and restarts a NATS server")
	}
	t.Parallel()
	h := newHarness(t)
	r := h.start(context.Background(), fastConfig(), invoicingnats.StreamConfig{}, nil)
	repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(r.Wake))

	const invoices, events = 20, 30
	written := make(chan error, 1)
	go func() { written <- writeInvoices(h, repo, invoices, events, 40*time.Millisecond) }()
	time.Sleep(300 * time.Millisecond)
	h.nats.Stop()
	time.Sleep(time.Second) // the API keeps committing; events wait in the outbox
	during := h.unpublished()
	h.nats.Restart()
	if err := <-written; err != nil {
		t.Fatalf("writes failed while NATS was down: %v", err)
	}
	if during == 0 {
		t.Error("no event waited in the outbox during the outage; the test did not test it")
	}
	eventually(t, 30*time.Second, "the backlog drained", func() bool { return h.unpublished() == 0 })
	checkExactlyOnceInOrder(t, h.stream(), invoices*events)
}

// TestRelayParksATooLargeEventAtOnceAndHoldsBackOnlyItsInvoice: an event
// the stream refuses as too large is parked at its first rejection (retries
// cannot help until an operator lifts the limit), its invoice's later events
// wait, other invoices flow, and a retry after the fix publishes both in
// order.
func TestRelayParksATooLargeEventAtOnceAndHoldsBackOnlyItsInvoice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	cfg := fastConfig()
	cfg.MaxAttempts = 10
	r := h.start(ctx, cfg, invoicingnats.StreamConfig{MaxMsgSize: 4096}, nil)
	repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(r.Wake))
	outbox := invoicingpg.NewOutbox(h.pool)

	// Twenty long lines make the created event larger than the stream takes.
	big := make([]invoice.LineInput, 20)
	for i := range big {
		big[i] = invoice.LineInput{Description: strings.Repeat("x", 300), Quantity: 1, UnitAmount: 100}
	}
	poison := h.newInvoice(repo, big...)
	h.update(repo, poison.ID(), addLine(1)) // small, but must wait behind it
	other := h.newInvoice(repo)
	h.update(repo, other.ID(), addLine(1))

	failed := waitParked(t, outbox, poison.ID(), 1, 1, "maximum")
	// Other invoices flow, also ones written after the parking.
	h.newInvoice(repo)
	eventually(t, 5*time.Second, "other invoices are published", func() bool { return h.unpublished() == 2 })
	for _, m := range h.stream() {
		if m.Subject == poison.ID().String() {
			t.Fatalf("the poison invoice's version %d was published while version 1 is parked", m.InvoiceVersion)
		}
	}

	// Fix the cause (lift the size limit), then re-queue: both poison events
	// go out, in order.
	if err := invoicingnats.EnsureStream(ctx, h.js, invoicingnats.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := outbox.Retry(ctx, failed); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	eventually(t, 5*time.Second, "the re-queued events are published", func() bool { return h.unpublished() == 0 })
	checkExactlyOnceInOrder(t, h.stream(), 5)
}

// TestRelayParksARejectedEventAfterMaxAttempts: an event the broker rejects
// for another reason (here: no stream captures its subject, which a
// misconfigured stream can cause and an operator can fix) is tried
// MaxAttempts times before it is parked.
func TestRelayParksARejectedEventAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cfg := fastConfig()
	cfg.MaxAttempts = 3
	r := h.start(context.Background(), cfg, invoicingnats.StreamConfig{Subjects: []string{cloudevent.Subject(invoice.TypeCreated)}}, nil)
	repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(r.Wake))
	inv := h.newInvoice(repo)
	h.update(repo, inv.ID(), addLine(1)) // invoicing.invoice.line_added: no stream
	waitParked(t, invoicingpg.NewOutbox(h.pool), inv.ID(), 2, cfg.MaxAttempts, "")
}

// waitParked waits until the outbox's only parked event is version of
// invoice id, parked after attempts with an error containing lastError, and
// returns its id.
func waitParked(t *testing.T, outbox *invoicingpg.Outbox, id invoice.ID, version int64, attempts int, lastError string) uuid.UUID {
	t.Helper()
	var failed []uuid.UUID
	eventually(t, 10*time.Second, "the event is parked", func() bool {
		list, err := outbox.ListFailed(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range list {
			if f.AggregateID != uuid.UUID(id) || f.Version != version || f.Attempts != attempts || !strings.Contains(f.LastError, lastError) {
				t.Fatalf("parked invoice %s version %d after %d attempts (%s); want invoice %s version %d after %d attempts, error %q",
					f.AggregateID, f.Version, f.Attempts, f.LastError, id, version, attempts, lastError)
			}
			failed = append(failed, uuid.UUID(f.ID))
		}
		return len(failed) > 0
	})
	return failed[0]
}

// TestRelayRetriesAtOnceWhenNATSComesBack: a relay waiting out a long backoff
// after failing to reach NATS must not sleep through the broker's return
// (once, NATS was back for seconds before the relay published).
// The backoff here is two minutes, so one failure makes it wait one to two
// (equal jitter); the bound below only tells "retried on its own" from
// "waited out the backoff".
func TestRelayRetriesAtOnceWhenNATSComesBack(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and restarts a NATS server")
	}
	t.Parallel()
	const backoff, bound = 2 * time.Minute, 20 * time.Second
	longBackoff := func(m *countingMetrics) relay.Config {
		cfg := fastConfig()
		cfg.BackoffMin, cfg.BackoffMax, cfg.Metrics = backoff, backoff, m
		return cfg
	}
	// waitForStream waits until the stream holds want events, at most bound
	// after NATS came back.
	waitForStream := func(t *testing.T, h *harness, want int) {
		t.Helper()
		back := time.Now()
		eventually(t, bound, fmt.Sprintf("the stream holds %d events (backoff %s)", want, backoff), func() bool {
			return len(h.streamIfAny()) == want
		})
		t.Logf("NATS back → events in the stream: %s", time.Since(back).Round(time.Millisecond))
		checkExactlyOnceInOrder(t, h.stream(), want)
	}

	t.Run("outage while publishing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		m := &countingMetrics{}
		r := h.start(context.Background(), longBackoff(m), invoicingnats.StreamConfig{}, nil)
		repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(r.Wake))
		h.newInvoice(repo)
		eventually(t, 10*time.Second, "the first event is in the stream", func() bool { return len(h.streamIfAny()) == 1 })

		h.nats.Stop()
		h.newInvoice(repo) // the wake-up sends it into the outage
		eventually(t, 20*time.Second, "the relay failed to publish", func() bool { return m.snapshot().unavailable > 0 })
		h.nats.Restart()
		waitForStream(t, h, 2)
	})

	t.Run("no NATS when the relay starts", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.nats.Stop()
		m := &countingMetrics{}
		r := h.start(context.Background(), longBackoff(m), invoicingnats.StreamConfig{}, nil)
		repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(r.Wake))
		eventually(t, 10*time.Second, "the relay leads", func() bool { return len(m.snapshot().leading) == 1 })
		h.newInvoice(repo)
		time.Sleep(300 * time.Millisecond) // into its backoff: the stream cannot be created
		h.nats.Restart()
		waitForStream(t, h, 1)
	})
}

// TestRelayBacksOffExponentiallyDuringANATSOutage: while the broker is down
// the relay's tries must space out (exponential from BackoffMin, capped at
// BackoffMax, docs/architecture.md "Failures"), not come every BackoffMin:
// each try reads and encodes a batch, and logs a warning. The pipelined loop
// once counted a batch merely sent as a success, so the failure count went
// 1, 0, 1, 0... and the relay retried every 100 ms however long the outage
// (393 warnings in a 30 s outage, every one "failures":1).
func TestRelayBacksOffExponentiallyDuringANATSOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and restarts a NATS server")
	}
	t.Parallel()
	h := newHarness(t)
	m := &countingMetrics{}
	cfg := fastConfig()
	cfg.BackoffMin, cfg.BackoffMax, cfg.Metrics = 20*time.Millisecond, 500*time.Millisecond, m
	r := h.start(context.Background(), cfg, invoicingnats.StreamConfig{}, nil)
	repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(r.Wake))
	h.newInvoice(repo)
	eventually(t, 10*time.Second, "the first event is in the stream", func() bool { return len(h.streamIfAny()) == 1 })

	h.nats.Stop()
	h.newInvoice(repo)
	eventually(t, 10*time.Second, "the relay failed to publish", func() bool { return m.snapshot().unavailable > 0 })
	before := m.snapshot().rounds
	const outage = 3 * time.Second
	time.Sleep(outage)
	tries := m.snapshot().rounds - before
	h.nats.Restart()
	eventually(t, 20*time.Second, "the stream holds both events", func() bool { return len(h.streamIfAny()) == 2 })

	// Backing off 20, 40, 80... ms up to 500 ms (each wait at least half
	// of that) makes at most about 15 tries in 3 s.
	if tries > 20 {
		t.Errorf("%d tries to publish in a %s outage, want at most 20 (backoff %s..%s)", tries, outage, cfg.BackoffMin, cfg.BackoffMax)
	}
	t.Logf("%d tries in a %s outage", tries, outage)
}
