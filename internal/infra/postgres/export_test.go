package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// WithBeforeCommit exposes withBeforeCommit to the tests of package postgres_test.
var WithBeforeCommit = withBeforeCommit

// TxFrom exposes the transaction Update carries in ctx, so a test hook can
// look at the uncommitted state.
func TxFrom(ctx context.Context) (pgx.Tx, bool) { return txFrom(ctx) }

// BacklogSQL exposes the backlog query, to check its plan.
const BacklogSQL = backlogSQL
