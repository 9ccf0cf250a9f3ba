package invoicingpg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// nextCreditNoteNumberSQL is nextNumberSQL for the credit notes' own
// counter: the same row lock, held to the end of the transaction, keeps
// numbers gapless.
const nextCreditNoteNumberSQL = `INSERT INTO credit_note_number_counters (tenant_id, year, last_number) VALUES ($1, $2::integer, 1)
ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = credit_note_number_counters.last_number + 1
RETURNING last_number`

const insertCreditNoteSQL = `INSERT INTO credit_notes (id, tenant_id, invoice_id, invoice_number, number, currency,
    line_descriptions, line_amounts, amount, pre_payment_amount, post_payment_amount, reason, memo, issued_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8::bigint[], $9::bigint, $10::bigint, $11::bigint, $12, $13, $14, $15::bigint)`

// NextCreditNoteNumber implements app.Tx: the tenant's next credit note
// number for year, given back if the transaction rolls back. It returns
// database errors wrapped.
func (t updateTx) NextCreditNoteNumber(ctx context.Context, tenant kernel.TenantID, year int) (int64, error) {
	var n int64
	if err := t.tx.QueryRow(ctx, nextCreditNoteNumberSQL, [16]byte(tenant), year).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: next credit note number: %w", err)
	}
	return n, nil
}

// AddCreditNote implements app.Tx: it inserts the credit note and the
// events pulled from it into the outbox, in the update's transaction, in
// one round trip. The invoice's guarded UPDATE follows in the same
// transaction; if it misses (a concurrent credit won), all of this rolls
// back with the attempt. It returns database errors wrapped and event
// encoding errors.
func (t updateTx) AddCreditNote(ctx context.Context, cn *creditnote.CreditNote) error {
	b := &pgx.Batch{}
	lines := cn.Lines()
	descs, amounts := make([]string, len(lines)), make([]int64, len(lines))
	for i, l := range lines {
		descs[i], amounts[i] = l.Description, l.Amount.Amount()
	}
	alloc := cn.Allocation()
	b.Queue(insertCreditNoteSQL, [16]byte(cn.ID()), [16]byte(cn.Tenant()), [16]byte(cn.InvoiceID()), cn.InvoiceNumber(),
		cn.Number(), string(cn.Currency()), descs, amounts, cn.Amount().Amount(),
		alloc.PrePayment.Amount(), alloc.PostPayment.Amount(), string(cn.Reason()), nullString(cn.Memo()),
		cn.IssuedAt(), cn.Version())
	if err := queueOutbox(b, cn.PullEvents(), app.TraceFrom(ctx)); err != nil {
		return fmt.Errorf("postgres: add credit note %s: %w", cn.ID(), err)
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: add credit note %s: %w", cn.ID(), err)
	}
	return nil
}
