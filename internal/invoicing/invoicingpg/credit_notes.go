package invoicingpg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var _ app.CreditNotes = (*CreditNotes)(nil)

// CreditNotes reads credit notes (app.CreditNotes); they are written by an
// invoice update's transaction (updateTx.AddCreditNote).
type CreditNotes struct {
	pool *pgxpool.Pool
}

// NewCreditNotes returns the credit note reader on pool.
func NewCreditNotes(pool *pgxpool.Pool) *CreditNotes { return &CreditNotes{pool: pool} }

const creditNoteColumns = `c.id, c.tenant_id, c.invoice_id, c.invoice_number, c.number, c.currency, c.line_descriptions,
    c.line_amounts, c.amount, c.pre_payment_amount, c.post_payment_amount, c.reason, coalesce(c.memo, ''), c.issued_at, c.version`

const getCreditNoteSQL = `SELECT ` + creditNoteColumns + ` FROM credit_notes c WHERE c.id = $1 AND c.tenant_id = $2`

// listCreditNotesSQL reads a page of a tenant's credit notes, newest first;
// $2 (nullable) restricts it to one invoice, $3 (nullable) starts after that
// credit note, whose key is read in the same statement. A cursor of another
// tenant (or of another invoice, with $2) yields NULLs, so the page is empty.
const listCreditNotesSQL = `WITH k AS (
    SELECT issued_at, id FROM credit_notes WHERE id = $3 AND tenant_id = $1 AND ($2::uuid IS NULL OR invoice_id = $2))
SELECT ` + creditNoteColumns + ` FROM credit_notes c
WHERE c.tenant_id = $1 AND ($2::uuid IS NULL OR c.invoice_id = $2)
  AND ($3::uuid IS NULL OR (c.issued_at, c.id) < ((SELECT issued_at FROM k), (SELECT id FROM k)))
ORDER BY c.issued_at DESC, c.id DESC LIMIT $4::bigint`

const creditNoteCursorSQL = `SELECT EXISTS (SELECT 1 FROM credit_notes WHERE id = $3 AND tenant_id = $1 AND ($2::uuid IS NULL OR invoice_id = $2))`

const invoiceExistsSQL = `SELECT EXISTS (SELECT 1 FROM invoices WHERE id = $1 AND tenant_id = $2)`

// Get implements app.CreditNotes.Get. It returns creditnote.ErrNotFound, an
// error wrapping creditnote.ErrCorrupt, or database errors wrapped.
func (r *CreditNotes) Get(ctx context.Context, tenant kernel.TenantID, id creditnote.ID) (_ *creditnote.CreditNote, err error) {
	defer markUnavailable(&err)
	cn, err := scanCreditNote(r.pool.QueryRow(ctx, getCreditNoteSQL, [16]byte(id), [16]byte(tenant)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, creditnote.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get credit note %s: %w", id, err)
	}
	return cn, nil
}

// List implements app.CreditNotes.List with keyset paging on (issued_at,
// id), as Invoices.List. A limit outside 1..app.MaxListLimit is clamped. It
// fails with invoice.ErrNotFound, app.ErrInvalidCursor, an error wrapping
// creditnote.ErrCorrupt, or database errors wrapped.
func (r *CreditNotes) List(ctx context.Context, tenant kernel.TenantID, f app.CreditNoteFilter) (_ app.CreditNotePage, err error) {
	defer markUnavailable(&err)
	limit := min(max(f.Limit, 1), app.MaxListLimit)
	var inv, after *[16]byte
	if f.InvoiceID != nil {
		id := [16]byte(*f.InvoiceID)
		inv = &id
	}
	if f.StartingAfter != nil {
		id := [16]byte(*f.StartingAfter)
		after = &id
	}
	rows, err := r.pool.Query(ctx, listCreditNotesSQL, [16]byte(tenant), inv, after, limit+1)
	if err != nil {
		return app.CreditNotePage{}, fmt.Errorf("postgres: list credit notes: %w", err)
	}
	notes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*creditnote.CreditNote, error) { return scanCreditNote(row) })
	if err != nil {
		return app.CreditNotePage{}, fmt.Errorf("postgres: list credit notes: %w", err)
	}
	if len(notes) == 0 {
		// An empty page: the end, or a filter naming nothing of the
		// tenant's. Neither invoices nor credit notes are ever deleted, so
		// asking now gives the answer the query would have.
		if err := r.check(ctx, tenant, inv, after); err != nil {
			return app.CreditNotePage{}, err
		}
	}
	page := app.CreditNotePage{CreditNotes: notes, HasMore: len(notes) > limit}
	if page.HasMore {
		page.CreditNotes = notes[:limit]
	}
	return page, nil
}

// check returns invoice.ErrNotFound if inv is set and names none of the
// tenant's invoices, app.ErrInvalidCursor if after is set and names none of
// the credit notes listed, database errors wrapped.
func (r *CreditNotes) check(ctx context.Context, tenant kernel.TenantID, inv, after *[16]byte) error {
	var known bool
	if inv != nil {
		if err := r.pool.QueryRow(ctx, invoiceExistsSQL, *inv, [16]byte(tenant)).Scan(&known); err != nil {
			return fmt.Errorf("postgres: list credit notes: check invoice: %w", err)
		}
		if !known {
			return invoice.ErrNotFound
		}
	}
	if after != nil {
		if err := r.pool.QueryRow(ctx, creditNoteCursorSQL, [16]byte(tenant), inv, *after).Scan(&known); err != nil {
			return fmt.Errorf("postgres: list credit notes: check cursor: %w", err)
		}
		if !known {
			return app.ErrInvalidCursor
		}
	}
	return nil
}

// scanCreditNote scans creditNoteColumns and rehydrates the credit note. It
// returns the scan's error or one wrapping creditnote.ErrCorrupt.
func scanCreditNote(row pgx.Row) (*creditnote.CreditNote, error) {
	var id, tenant, inv [16]byte
	var s creditnote.Snapshot
	var descs []string
	var amounts []int64
	var currency, reason string
	var issued time.Time
	if err := row.Scan(&id, &tenant, &inv, &s.InvoiceNumber, &s.Number, &currency, &descs, &amounts, &s.Amount,
		&s.PrePaymentAmount, &s.PostPaymentAmount, &reason, &s.Memo, &issued, &s.Version); err != nil {
		return nil, err
	}
	s.ID, s.Tenant, s.InvoiceID = creditnote.ID(id), kernel.TenantID(tenant), invoice.ID(inv)
	s.Currency, s.Reason, s.IssuedAt = kernel.Currency(currency), creditnote.Reason(reason), issued.UTC()
	if len(descs) != len(amounts) {
		return nil, fmt.Errorf("%w: credit note %s: line columns disagree in length", creditnote.ErrCorrupt, s.ID)
	}
	for i := range descs {
		s.Lines = append(s.Lines, creditnote.LineInput{Description: descs[i], Amount: amounts[i]})
	}
	return creditnote.Rehydrate(s)
}
