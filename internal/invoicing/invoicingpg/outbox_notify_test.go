package invoicingpg_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// listenerPID returns the backend pid of the session listening for commit
// notices, other than old, waiting for one to appear.
func listenerPID(ctx context.Context, t *testing.T, pool *pgxpool.Pool, old int32) int32 {
	t.Helper()
	for {
		var pid int32
		err := pool.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND query = 'LISTEN invoicing_outbox' AND pid <> $1::int`, old).Scan(&pid)
		if err == nil {
			return pid
		}
		if ctx.Err() != nil {
			t.Fatalf("no session listens for commit notices: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitWake fails the test unless wakes receives within a generous bound.
func waitWake(t *testing.T, wakes <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-wakes:
	case <-time.After(10 * time.Second):
		t.Fatalf("no wake-up %s", what)
	}
}

// TestOutboxNotifierListenSurvivesTerminatedConnection kills the listening
// session, as a database restart or failover does: the listener must LISTEN
// again on a new session and still wake on notices sent after that.
func TestOutboxNotifierListenSurvivesTerminatedConnection(t *testing.T) {
	pool := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := invoicingpg.NewOutboxNotifier(pool, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))

	wakes := make(chan struct{}, 1)
	lctx, stop := context.WithCancel(ctx)
	listened := make(chan struct{})
	go func() {
		defer close(listened)
		n.Listen(lctx, func() {
			select {
			case wakes <- struct{}{}:
			default:
			}
		})
	}()
	defer func() { stop(); <-listened }()

	pid := listenerPID(ctx, t, pool, 0)
	<-wakes // the wake-up for notices missed before listening
	n.Notify()
	waitWake(t, wakes, "after a notice")

	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend($1::int)`, pid); err != nil {
		t.Fatal(err)
	}
	listenerPID(ctx, t, pool, pid)
	waitWake(t, wakes, "after listening again")
	n.Notify()
	waitWake(t, wakes, "after a notice sent to the new session")
}

// TestOutboxNotifierCoalesces makes 50 commits' worth of Notify calls at
// once: they share at most two notices (the first, and one for the calls
// that came while it was sent or within its window), not 50.
func TestOutboxNotifierCoalesces(t *testing.T) {
	pool := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `LISTEN invoicing_outbox`); err != nil {
		t.Fatal(err)
	}

	n := invoicingpg.NewOutboxNotifier(pool, 500*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for range 50 {
		n.Notify()
	}
	got := 0
	for {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := conn.WaitForNotification(wctx)
		wcancel()
		if err != nil {
			break
		}
		got++
	}
	if got < 1 || got > 2 {
		t.Fatalf("50 Notify calls within one window sent %d notices, want 1 or 2", got)
	}
}
