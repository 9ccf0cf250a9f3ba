package invoicingpg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// BacklogSQL exposes the backlog query, to check its plan.
const BacklogSQL = backlogSQL

// ExplainPending returns EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of one
// relay read of up to limit records, in a transaction rolled back after.
func ExplainPending(ctx context.Context, pool *pgxpool.Pool, limit int) ([]byte, error) {
	return explain(ctx, pool, pendingSQL, limit, []int64{}, false, uint64(0), int64(0))
}

// ExplainPrune returns EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of one prune
// of up to limit rows that occurred before cutoff, rolled back after.
func ExplainPrune(ctx context.Context, pool *pgxpool.Pool, cutoff time.Time, limit int) ([]byte, error) {
	return explain(ctx, pool, pruneSQL, cutoff, limit)
}

// explain runs query under EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) in a
// transaction rolled back after, and returns the plan.
func explain(ctx context.Context, pool *pgxpool.Pool, query string, args ...any) ([]byte, error) {
	var plan []byte
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	err = tx.QueryRow(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+query, args...).Scan(&plan)
	return plan, err
}

// Statements returns the package's SQL statements that take parameters, by
// the name of the constant or variable holding each, for TestIntegerParameters:
// listQuery's statement with every filter set stands for its variants.
func Statements() map[string]string {
	after := invoice.NewID()
	list, _ := listQuery(kernel.TenantID{}, app.ListFilter{Status: invoice.StatusOpen, CustomerEmail: "a@b.example", StartingAfter: &after}, 10)
	return map[string]string{
		"feedSQL": feedSQL, "historySQL": historySQL,
		"pendingSQL": pendingSQL, "advanceSQL": advanceSQL, "aheadSQL": aheadSQL, "waitingSQL": waitingSQL, "recordFailuresSQL": recordFailuresSQL,
		"pruneSQL": pruneSQL, "listFailedSQL": listFailedSQL, "retrySQL": retrySQL, "retryOneSQL": retrySQL + retryOneSQL, "tryLockSQL": tryLockSQL, "unlockSQL": unlockSQL,
		"insertInvoiceSQL": insertInvoiceSQL, "updateInvoiceSQL": updateInvoiceSQL, "insertLinesSQL": insertLinesSQL,
		"deleteLinesSQL": deleteLinesSQL, "insertPaymentsSQL": insertPaymentsSQL, "insertOutboxSQL": insertOutboxSQL,
		"lockTimeoutSQL": lockTimeoutSQL, "lockInvoiceSQL": lockInvoiceSQL, "getSQL": getSQL, "linesSQL": linesSQL, "listQuery": list, "nextNumberSQL": nextNumberSQL,
		"lockKeySQL": lockKeySQL, "queueNumbersSQL": queueNumbersSQL, "lookupKeySQL": lookupKeySQL, "storeKeySQL": storeKeySQL, "pruneKeysSQL": pruneKeysSQL,
		"createKeySQL": createKeySQL, "tenantByKeySQL": tenantByKeySQL, "backlogSQL": backlogSQL,
		"notifySQL": notifySQL, "listenSQL": listenSQL,
		"nextCreditNoteNumberSQL": nextCreditNoteNumberSQL, "insertCreditNoteSQL": insertCreditNoteSQL,
		"getCreditNoteSQL": getCreditNoteSQL, "listCreditNotesSQL": listCreditNotesSQL,
		"creditNoteCursorSQL": creditNoteCursorSQL, "invoiceExistsSQL": invoiceExistsSQL,
		"dueInvoicesSQL": dueInvoicesSQL, "tryJobLockSQL": tryJobLockSQL, "jobUnlockSQL": jobUnlockSQL,
	}
}

// Unavailable exposes unavailable, to check the classification of errors a
// test cannot provoke.
var Unavailable = unavailable

// SendOrder returns the sequences of rows, each (held, txid, sequence), as
// sendOrder orders and cuts them.
func SendOrder(rows [][3]int64, limit int) []int64 {
	read := make([]readRow, len(rows))
	for i, r := range rows {
		read[i] = readRow{key: rowKey{txid: uint64(r[1]), seq: r[2]}, scanned: r[0] == 0}
	}
	var seqs []int64
	for _, r := range sendOrder(read, limit) {
		seqs = append(seqs, r.key.seq)
	}
	return seqs
}
