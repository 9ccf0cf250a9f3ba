package relay_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
)

// leaderPID returns the backend holding the relay's advisory lock, 0 if none.
func (h *harness) leaderPID() int {
	h.t.Helper()
	var pid int
	err := h.pool.QueryRow(context.Background(), `SELECT coalesce(max(pid), 0) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&pid)
	if err != nil {
		h.t.Fatal(err)
	}
	return pid
}

func TestThreeRelaysAndServeKeepEachInvoiceInOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 events through four relays")
	}
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)

	// `serve` (woken by its repository) and three `invoicing relay`
	// processes, each with its own pool and NATS connection.
	serve := h.start(ctx, fastConfig(), invoicingnats.StreamConfig{}, nil)
	for range 3 {
		pool, err := pgxpool.NewWithConfig(ctx, h.pool.Config())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		h.start(ctx, fastConfig(), invoicingnats.StreamConfig{}, invoicingpg.NewOutbox(pool))
	}
	repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(serve.Wake))

	const invoices, events = 100, 20
	written := make(chan error, 1)
	go func() { written <- writeInvoices(h, repo, invoices, events, 5*time.Millisecond) }()

	// Mid-way, the leader loses its database session: another takes over.
	eventually(t, 10*time.Second, "a leader is elected and events flow", func() bool {
		return h.leaderPID() != 0 && h.outboxCount() > invoices*events/4
	})
	first := h.leaderPID()
	if _, err := h.pool.Exec(ctx, "SELECT pg_terminate_backend($1)", first); err != nil {
		t.Fatal(err)
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "every event is published", func() bool { return h.unpublished() == 0 })
	if now := h.leaderPID(); now == 0 || now == first {
		t.Errorf("leader session %d after killing %d; want a new leader", now, first)
	}
	checkExactlyOnceInOrder(t, h.stream(), invoices*events)
}
