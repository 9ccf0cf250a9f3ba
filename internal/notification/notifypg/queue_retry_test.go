package notifypg_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// TestRetryAllRetriesEachFailedTaskOnce retries more failed tasks than one
// page holds while the workers run and fail them again at once (no reaction
// renders them): RetryAll retries each once and returns, rather than find
// the first page failed again and go round for ever.
func TestRetryAllRetriesEachFailedTaskOnce(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	if _, err := pool.Exec(ctx, `INSERT INTO notification.river_job (kind, queue, args, state, attempt, max_attempts, finalized_at)
		SELECT 'notification.email', 'default', '{"reaction":"no such reaction"}', 'cancelled', 1, 25, now()
		FROM generate_series(1, 2500)`); err != nil {
		t.Fatal(err)
	}
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Mailer: nopMailer{}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = q.Stop(ctx) }()
	// The deadline only ends a RetryAll that would not.
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := q.RetryAll(rctx)
	if err != nil || n != 2500 {
		t.Errorf("RetryAll: %d, %v; want 2500 retried", n, err)
	}
}
