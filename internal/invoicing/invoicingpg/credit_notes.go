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

var (
	_ app.CreditNotes    = (*CreditNotes)(nil)
	_ app.CreditNoteList = (*CreditNotes)(nil)
)

// CreditNotes reads credit notes (app.CreditNotes, app.CreditNoteList);
// they are written by an invoice update's transaction
// (updateTx.AddCreditNote).
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

// List implements app.CreditNoteList.List with keyset paging on (issued_at,
// id), as Invoices.List, reading views from the rows without rebuilding the
// aggregates. A limit outside 1..app.MaxListLimit is clamped. It fails with
// invoice.ErrNotFound, app.ErrInvalidCursor, an error wrapping
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
	notes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.CreditNoteView, error) { return scanCreditNoteView(row) })
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

// creditNoteRow is a row of creditNoteColumns.
type creditNoteRow struct {
	s             creditnote.Snapshot
	descs         []string
	amounts       []int64
	id, tenant    [16]byte
	inv           [16]byte
	currency, why string
	issued        time.Time
}

// scan reads the row's columns, and fails with the scan's error or one
// wrapping creditnote.ErrCorrupt if its line columns disagree in length.
func (r *creditNoteRow) scan(row pgx.Row) error {
	s := &r.s
	if err := row.Scan(&r.id, &r.tenant, &r.inv, &s.InvoiceNumber, &s.Number, &r.currency, &r.descs, &r.amounts, &s.Amount,
		&s.PrePaymentAmount, &s.PostPaymentAmount, &r.why, &s.Memo, &r.issued, &s.Version); err != nil {
		return err
	}
	s.ID, s.Tenant, s.InvoiceID = creditnote.ID(r.id), kernel.TenantID(r.tenant), invoice.ID(r.inv)
	s.Currency, s.Reason, s.IssuedAt = kernel.Currency(r.currency), creditnote.Reason(r.why), r.issued.UTC()
	if len(r.descs) != len(r.amounts) {
		return fmt.Errorf("%w: credit note %s: line columns disagree in length", creditnote.ErrCorrupt, s.ID)
	}
	for i := range r.descs {
		s.Lines = append(s.Lines, creditnote.LineInput{Description: r.descs[i], Amount: r.amounts[i]})
	}
	return nil
}

// scanCreditNote scans creditNoteColumns and rehydrates the credit note. It
// returns the scan's error or one wrapping creditnote.ErrCorrupt.
func scanCreditNote(row pgx.Row) (*creditnote.CreditNote, error) {
	var r creditNoteRow
	if err := r.scan(row); err != nil {
		return nil, err
	}
	return creditnote.Rehydrate(r.s)
}

// scanCreditNoteView scans creditNoteColumns into the list's read model,
// checking only that its amounts are money of its currency. It returns the
// scan's error or one wrapping creditnote.ErrCorrupt.
func scanCreditNoteView(row pgx.Row) (app.CreditNoteView, error) {
	var r creditNoteRow
	if err := r.scan(row); err != nil {
		return app.CreditNoteView{}, err
	}
	s := r.s
	money := func(minor int64) (kernel.Money, error) {
		m, err := kernel.NewMoney(minor, s.Currency)
		if err != nil {
			return kernel.Money{}, fmt.Errorf("%w: credit note %s: %v", creditnote.ErrCorrupt, s.ID, err)
		}
		return m, nil
	}
	v := app.CreditNoteView{
		ID: s.ID, Number: s.Number, InvoiceID: s.InvoiceID, InvoiceNumber: s.InvoiceNumber, Currency: s.Currency,
		Reason: s.Reason, Memo: s.Memo, IssuedAt: s.IssuedAt,
	}
	var err error
	if v.Amount, err = money(s.Amount); err != nil {
		return app.CreditNoteView{}, err
	}
	// Neither error can occur once the currency is known.
	v.Allocation.PrePayment, _ = money(s.PrePaymentAmount)
	v.Allocation.PostPayment, _ = money(s.PostPaymentAmount)
	for _, l := range s.Lines {
		amount, _ := money(l.Amount)
		v.Lines = append(v.Lines, creditnote.Line{Description: l.Description, Amount: amount})
	}
	return v, nil
}
