package invoicingpg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	tryJobLockSQL = `SELECT pg_try_advisory_lock(hashtextextended('invoicing.job:' || $1::text, 0))`
	jobUnlockSQL  = `SELECT pg_advisory_unlock(hashtextextended('invoicing.job:' || $1::text, 0))`
)

// Jobs runs scheduled jobs in one process at a time, per database.
type Jobs struct {
	pool *pgxpool.Pool
}

// NewJobs returns Jobs on pool.
func NewJobs(pool *pgxpool.Pool) *Jobs { return &Jobs{pool: pool} }

// RunAlone runs fn under the session-level advisory lock of the job named
// name, taken on a connection of the pool for the run: if another process
// (or goroutine) runs the job, it returns false at once without running fn.
// The lock ends with the session, so a process that dies mid-run frees it;
// it is released (and the connection given back) when fn returns, or the
// connection closed if the release fails. It returns fn's error, and
// database errors wrapped.
//
// The lock saves work, not correctness: a job's changes must be safe to run
// twice at once (the overdue job's are: each invoice decides under optimistic
// concurrency).
func (j *Jobs) RunAlone(ctx context.Context, name string, fn func(context.Context) error) (ran bool, err error) {
	defer markUnavailable(&err)
	conn, err := j.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: job %s: %w", name, err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, tryJobLockSQL, name).Scan(&ok); err != nil {
		conn.Release()
		return false, fmt.Errorf("postgres: job %s: lock: %w", name, err)
	}
	if !ok {
		conn.Release()
		return false, nil
	}
	defer func() {
		// With a context of its own: fn may have ended because ctx did.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, jobUnlockSQL, name); uerr != nil {
			// Closing the session releases the lock all the same.
			_ = conn.Hijack().Close(uctx)
			return
		}
		conn.Release()
	}()
	return true, fn(ctx)
}
