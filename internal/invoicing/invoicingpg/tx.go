package invoicingpg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
)

// rollbackTimeout bounds a rollback run after ctx is done.
const rollbackTimeout = 5 * time.Second

// rollback rolls tx back and returns the error, if any. It ignores ctx's
// cancellation (keeping its values) so that a cancelled request still ends
// its transaction cleanly and the connection goes back to the pool; a
// transaction already closed (its batch failed before BEGIN ran) is not an
// error, but Rollback must still be called to release the connection.
func rollback(ctx context.Context, tx pgx.Tx) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if err := tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

// withRollback rolls tx back and returns err, joined with the rollback's
// error if it failed. err is returned as is otherwise, so callers can match
// it directly.
func withRollback(ctx context.Context, tx pgx.Tx, err error) error {
	if rbErr := rollback(ctx, tx); rbErr != nil {
		return errors.Join(err, rbErr)
	}
	return err
}

// PostgreSQL error codes and constraint names this package reacts to.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeLockNotAvailable     = "55P03"

	constraintPaymentReference = "payments_reference_unique"
)

// isLostRace reports whether err means another transaction got there first,
// so that reloading and running the UpdateFunc again may succeed:
//   - the payment reference was inserted concurrently (the aggregate will see
//     it on reload and treat the payment as a replay);
//   - a deadlock or serialization failure, which PostgreSQL resolves by
//     aborting one of the transactions involved. Update pipelines its writes
//     after the guarded UPDATE, so a loser's writes can briefly wait on a
//     third transaction's rows before it rolls back.
func isLostRace(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case codeUniqueViolation:
		return pgErr.ConstraintName == constraintPaymentReference
	case codeSerializationFailure, codeDeadlockDetected:
		return true
	}
	return false
}

// markBusy replaces *err, if it is a lock wait that ran past lock_timeout,
// by an error wrapping app.ErrInvoiceBusy: the change met no rule, it met a
// queue too long to wait in, and may be retried as is.
func markBusy(err *error) {
	var pgErr *pgconn.PgError
	if errors.As(*err, &pgErr) && pgErr.Code == codeLockNotAvailable && !errors.Is(*err, app.ErrInvoiceBusy) {
		*err = fmt.Errorf("%w: %w", app.ErrInvoiceBusy, *err)
	}
}
