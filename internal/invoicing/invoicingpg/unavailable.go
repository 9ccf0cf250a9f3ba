package invoicingpg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
)

// markUnavailable replaces *err by unavailable(*err). The ports' methods
// defer it, so that every error on their way out is classified in one place.
func markUnavailable(err *error) { *err = unavailable(*err) }

// unavailable returns err wrapped with app.ErrUnavailable if it means the
// database could not serve the request at all, whatever the request: the
// caller may retry later. Other errors, and nil, are returned unchanged.
// errors.Is and errors.As still find the cause.
func unavailable(err error) error {
	if err == nil || !isOutage(err) || errors.Is(err, app.ErrUnavailable) ||
		errors.Is(err, app.ErrCommitUnknown) || errors.Is(err, app.ErrCommitUnknownWithoutKey) {
		return err
	}
	return fmt.Errorf("%w: %w", app.ErrUnavailable, err)
}

// commitFailed returns the error of a failed COMMIT: wrapped with
// app.ErrCommitUnknown (keyed: the change has an Idempotency-Key) or
// app.ErrCommitUnknownWithoutKey if the connection broke before the
// server's answer arrived, since the server may have committed; as is
// otherwise (the server answered: it rolled back).
func commitFailed(err error, keyed bool) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || !isOutage(err) {
		return err
	}
	if !keyed {
		return fmt.Errorf("%w: %w", app.ErrCommitUnknownWithoutKey, err)
	}
	return fmt.Errorf("%w: %w", app.ErrCommitUnknown, err)
}

// batchFailed returns the error of a failed write sent as one batch without
// BEGIN and COMMIT (one implicit transaction): as commitFailed, for a
// change without an Idempotency-Key, if the batch may have reached the
// server (a connection that broke after it was sent); as is if the server
// answered or the batch was never sent (no connection could be made).
func batchFailed(err error) error {
	var connectErr *pgconn.ConnectError
	if pgconn.SafeToRetry(err) || errors.As(err, &connectErr) {
		return err
	}
	return commitFailed(err, false)
}

// isOutage reports whether err is a failure to reach or keep the database
// rather than its answer to a statement:
//   - no connection could be made (refused, unresolvable, timed out, or the
//     server turned it away, e.g. 57P03 while it starts or 53300 when full);
//   - the connection broke: a network error, the stream ended mid-message,
//     or pgx had already closed it;
//   - the server ended the session or cannot work: class 08 (connection
//     exception), 57P01/57P02 (shut down), 57P03, 57P05 (idle session
//     closed), class 53 (out of disk, memory or connections), 25006 (the
//     server is a read-only standby, as after a failover);
//   - the database did not answer before the caller's deadline.
//
// A caller that gave up (context.Canceled) is not an outage, whichever of
// the above it interrupted. pgconn.SafeToRetry is no help here: it tells
// whether a statement may be re-sent, and is also true for a context that
// was done before anything was sent.
func isOutage(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgerrcode.AdminShutdown, pgerrcode.CrashShutdown, pgerrcode.CannotConnectNow,
			pgerrcode.IdleSessionTimeout, pgerrcode.ReadOnlySQLTransaction:
			return true
		}
		return pgerrcode.IsConnectionException(pgErr.Code) || pgerrcode.IsInsufficientResources(pgErr.Code)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
