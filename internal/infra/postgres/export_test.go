package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WithBeforeCommit exposes withBeforeCommit to the tests of package postgres_test.
var WithBeforeCommit = withBeforeCommit

// TxFrom exposes the transaction Update carries in ctx, so a test hook can
// look at the uncommitted state.
func TxFrom(ctx context.Context) (pgx.Tx, bool) { return txFrom(ctx) }

// BacklogSQL exposes the backlog query, to check its plan.
const BacklogSQL = backlogSQL

// ExplainPending returns EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of one
// relay read of up to limit records, planned as Pending plans it.
func ExplainPending(ctx context.Context, pool *pgxpool.Pool, limit int) ([]byte, error) {
	var plan []byte
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, pendingPlan); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+pendingSQL, limit, []int64{}).Scan(&plan)
	})
	return plan, err
}

// Unavailable exposes unavailable, to check the classification of errors a
// test cannot provoke.
var Unavailable = unavailable
