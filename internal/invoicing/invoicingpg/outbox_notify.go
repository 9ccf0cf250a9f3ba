package invoicingpg

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// outboxChannel is the PostgreSQL notification channel on which committers
// tell the relay leader, in whichever process it runs, that records wait.
const outboxChannel = "invoicing_outbox"

// DefaultNotifyWindow is the OutboxNotifier's default coalescing window.
const DefaultNotifyWindow = 5 * time.Millisecond

const (
	notifySQL      = `SELECT pg_notify('` + outboxChannel + `', '')`
	listenSQL      = `LISTEN ` + outboxChannel
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 5 * time.Second
)

// OutboxNotifier carries commits' wake-ups across processes: a committer
// calls Notify after its commit, and the relay leader, wherever it runs,
// receives them through Listen. The poll remains the fallback for any
// notification lost in between (PostgreSQL keeps none for a session that is
// not listening).
//
// Why outside the transaction: a transaction that notifies takes, at commit,
// the lock PostgreSQL orders its notification queue with, so every paying
// transaction would commit one at a time; measured with bench/pgbench, a
// NOTIFY inside the pay transaction cut pay throughput by almost half
// (docs/architecture.md, "Waking the relay"). Sent after the
// commit, it costs one short statement on a pool connection per window.
//
// Why coalesced: one notification wakes the leader to read every pending
// record, so a process sends at most one per window however many commits it
// makes; a commit while one is being sent or within the window is carried by
// the next one, sent when the window ends.
type OutboxNotifier struct {
	pool   *pgxpool.Pool
	window time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	sending bool // a goroutine is sending or waiting out the window
	dirty   bool // a commit came since that goroutine last sent
}

// NewOutboxNotifier returns a notifier on pool that sends at most one
// notification per window (DefaultNotifyWindow if window is not positive).
func NewOutboxNotifier(pool *pgxpool.Pool, window time.Duration, logger *slog.Logger) *OutboxNotifier {
	if window <= 0 {
		window = DefaultNotifyWindow
	}
	return &OutboxNotifier{pool: pool, window: window, log: logger.With("component", "outbox-notifier")}
}

// Notify tells the relay leader that records were committed. It never
// blocks: the notification is sent by a goroutine that lives while commits
// keep coming, so it suits the repository's after-commit hook.
func (n *OutboxNotifier) Notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dirty = true
	if !n.sending {
		n.sending = true
		go n.send()
	}
}

// send sends one notification per window while Notify keeps being called,
// and returns after a window without a call.
func (n *OutboxNotifier) send() {
	for {
		n.mu.Lock()
		if !n.dirty {
			n.sending = false
			n.mu.Unlock()
			return
		}
		n.dirty = false
		n.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, err := n.pool.Exec(ctx, notifySQL); err != nil {
			// The leader's poll moves the records anyway.
			n.log.Debug("outbox: notify failed", "err", err)
		}
		cancel()
		time.Sleep(n.window)
	}
}

// Listen calls wake for every notification until ctx is done. It listens on
// a dedicated connection (a pool connection cannot stay in LISTEN), and
// reconnects with backoff when the connection is lost; after each (re)LISTEN
// it calls wake once, for notifications sent while nobody listened.
func (n *OutboxNotifier) Listen(ctx context.Context, wake func()) {
	retry := listenRetryMin
	for ctx.Err() == nil {
		listened, err := n.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		if listened {
			retry = listenRetryMin
		}
		n.log.Warn("outbox: listening for commits failed; the poll moves records meanwhile", "err", err, "retry_in", retry.String())
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		retry = min(2*retry, listenRetryMax)
	}
}

// listenOnce connects, LISTENs and wakes until the connection fails or ctx
// is done. It reports whether LISTEN succeeded.
func (n *OutboxNotifier) listenOnce(ctx context.Context, wake func()) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, n.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, err
	}
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, listenSQL); err != nil {
		return false, err
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		wake()
	}
}
