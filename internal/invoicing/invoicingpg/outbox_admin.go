package invoicingpg

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

const listFailedSQL = `SELECT ` + eventColumns + `, h.attempts, coalesce(h.last_error, ''), h.failed_at
FROM outbox_held h JOIN outbox o ON o.sequence = h.sequence WHERE h.failed_at IS NOT NULL
ORDER BY h.sequence LIMIT $1::bigint`

// ListFailed returns up to limit parked events (`invoicing outbox failed`),
// oldest first. Each one holds back the later events of its invoice. It
// returns database errors wrapped.
func (o *Outbox) ListFailed(ctx context.Context, limit int) ([]relay.FailedEvent, error) {
	rows, err := o.pool.Query(ctx, listFailedSQL, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list failed outbox events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (e relay.FailedEvent, err error) {
		err = scanEvent(row, &e.EventRecord, &e.Attempts, &e.LastError, &e.FailedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list failed outbox events: %w", err)
	}
	return events, nil
}

// retrySQL re-queues parked events: with attempts back at 0 the relay sends
// them on its next batch (at most one poll interval away) and then the
// invoice's events they held back. last_error stays, for the record.
const retrySQL = `UPDATE outbox_held h SET attempts = 0, failed_at = NULL, next_attempt_at = NULL
WHERE h.failed_at IS NOT NULL`

// retryOneSQL narrows retrySQL to the event $1, found among the held rows
// (no index leads from an event id to its row).
const retryOneSQL = ` AND h.sequence = (
    SELECT o.sequence FROM outbox_held p JOIN outbox o ON o.sequence = p.sequence WHERE o.event_id = $1)`

// Retry re-queues the parked event eventID (`invoicing outbox retry ID`).
// It returns relay.ErrNotFailed if no parked event has that id, and
// database errors wrapped.
func (o *Outbox) Retry(ctx context.Context, eventID uuid.UUID) error {
	tag, err := o.pool.Exec(ctx, retrySQL+retryOneSQL, eventID)
	if err != nil {
		return fmt.Errorf("postgres: retry outbox event %s: %w", eventID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", relay.ErrNotFailed, eventID)
	}
	return nil
}

// RetryAll re-queues every parked event (`invoicing outbox retry --all`)
// and returns how many it re-queued, or a database error wrapped.
func (o *Outbox) RetryAll(ctx context.Context) (int64, error) {
	tag, err := o.pool.Exec(ctx, retrySQL)
	if err != nil {
		return 0, fmt.Errorf("postgres: retry all failed outbox events: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Parked returns how many events are parked, for readiness: one count of
// the small table of held events. It returns
// database errors wrapped.
func (o *Outbox) Parked(ctx context.Context) (int64, error) {
	var n int64
	if err := o.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_held WHERE failed_at IS NOT NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count parked events: %w", err)
	}
	return n, nil
}
