package invoicingpg

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// List implements app.InvoiceList.List: up to f.Limit of the tenant's invoices
// matching f, newest first (by creation time, then id), each with its stored
// totals, its number of lines, its first app.ListedLines lines and its
// payments, in one query. Paging is keyset-based: the page after
// f.StartingAfter holds the invoices whose (created_at, id) sorts below that
// invoice's, so invoices created while a caller pages sort above the cursor
// and never shift the pages below it. A limit outside 1..app.MaxListLimit is
// clamped (0 means app.DefaultListLimit).
//
// It fails with app.ErrInvalidCursor if f.StartingAfter is not one of the
// tenant's invoices, with an error wrapping invoice.ErrCorruptInvoice for a
// stored invoice or line that breaks a rule, and with database errors wrapped.
func (r *Invoices) List(ctx context.Context, tenant kernel.TenantID, f app.ListFilter) (_ app.InvoicePage, err error) {
	defer markUnavailable(&err)
	limit := f.Limit
	if limit == 0 {
		limit = app.DefaultListLimit
	}
	limit = min(max(limit, 1), app.MaxListLimit)

	query, args := listQuery(tenant, f, limit+1) // one more tells whether more follow
	rows, err := r.pool.Query(ctx, query, args...)
	if err != nil {
		return app.InvoicePage{}, fmt.Errorf("postgres: list invoices: %w", err)
	}
	invs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.InvoiceView, error) {
		var sr summaryRow
		if err := sr.scan(row); err != nil {
			return app.InvoiceView{}, err
		}
		return sr.view()
	})
	if err != nil {
		return app.InvoicePage{}, fmt.Errorf("postgres: list invoices: %w", err)
	}
	if len(invs) == 0 && f.StartingAfter != nil {
		// An empty page: the end of the list, or a cursor that names none of
		// the tenant's invoices. Invoices are never deleted, so asking now
		// gives the same answer the query would have.
		var known bool
		if err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM invoices WHERE id = $1 AND tenant_id = $2)`,
			[16]byte(*f.StartingAfter), [16]byte(tenant)).Scan(&known); err != nil {
			return app.InvoicePage{}, fmt.Errorf("postgres: list invoices: check cursor: %w", err)
		}
		if !known {
			return app.InvoicePage{}, app.ErrInvalidCursor
		}
	}
	page := app.InvoicePage{Invoices: invs, HasMore: len(invs) > limit}
	if page.HasMore {
		page.Invoices = invs[:limit]
	}
	return page, nil
}

// listQuery returns the statement reading up to limit invoices for List, and
// its arguments. Only the filters in use become conditions, so each
// combination is its own statement whose cached plan can use the index made
// for it (invoices_tenant_created, _status_created or _email_created).
func listQuery(tenant kernel.TenantID, f app.ListFilter, limit int) (string, []any) {
	args := []any{[16]byte(tenant)}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	with := ""
	where := []string{"i.tenant_id = $1"}
	if f.Status != "" {
		where = append(where, "i.status = "+arg(string(f.Status)))
	}
	if f.CustomerEmail != "" {
		where = append(where, "i.customer_email = "+arg(f.CustomerEmail))
	}
	if f.StartingAfter != nil {
		// The cursor's key is read in the same statement (one snapshot); a
		// cursor of another tenant yields NULLs, so the page is empty. Scalar
		// subqueries, not a join: their values bound the index scan.
		with = "WITH c AS (SELECT created_at, id FROM invoices WHERE id = " + arg([16]byte(*f.StartingAfter)) + " AND tenant_id = $1)\n    "
		where = append(where, "(i.created_at, i.id) < ((SELECT created_at FROM c), (SELECT id FROM c))")
	}
	page := with + "SELECT i.* FROM invoices i\n    WHERE " + strings.Join(where, " AND ") +
		"\n    ORDER BY i.created_at DESC, i.id DESC LIMIT " + arg(limit) + "::bigint"
	return selectSummaries(page, "\nORDER BY i.created_at DESC, i.id DESC"), args
}

// selectSummaries is selectInvoices for lists: it reads the invoices' first
// app.ListedLines lines only, and their stored totals and number of lines
// instead of the rest, so a page's size does not grow with its invoices'
// lines. count(*) walks the (invoice_id, position) index, not the lines.
func selectSummaries(from, orderBy string) string {
	return `SELECT ` + invoiceColumns + `,
       i.subtotal, i.tax, i.total, i.amount_paid,
       (SELECT count(*) FROM invoice_lines WHERE invoice_id = i.id) AS line_count
FROM (` + from + `) i` +
		linesOf(`(SELECT * FROM invoice_lines WHERE invoice_id = i.id ORDER BY position LIMIT `+strconv.Itoa(app.ListedLines)+`) first`) +
		paymentsOf + orderBy
}

// summaryRow is one row of selectSummaries.
type summaryRow struct {
	invoiceRow
	subtotal, tax, total, amountPaid, lineCount int64
}

func (r *summaryRow) scan(row pgx.Row) error {
	return row.Scan(append(r.invoiceRow.columns(), &r.subtotal, &r.tax, &r.total, &r.amountPaid, &r.lineCount)...)
}

// view converts the row, deriving each line's amounts as Rehydrate does and
// taking the totals as stored (every write stores those the domain derived).
// It fails with an error wrapping invoice.ErrCorruptInvoice if the row
// cannot be an invoice's.
func (r *summaryRow) view() (app.InvoiceView, error) {
	s, err := r.snapshot()
	if err != nil {
		return app.InvoiceView{}, err
	}
	if _, ok := invoice.ParseStatus(string(s.Status)); !ok {
		return app.InvoiceView{}, fmt.Errorf("%w: invoice %s: unknown status %q", invoice.ErrCorruptInvoice, s.ID, s.Status)
	}
	if _, err := kernel.NewMoney(0, s.Currency); err != nil {
		return app.InvoiceView{}, fmt.Errorf("%w: invoice %s: unknown currency %q", invoice.ErrCorruptInvoice, s.ID, s.Currency)
	}
	money := func(minor int64) kernel.Money {
		m, _ := kernel.NewMoney(minor, s.Currency) // the currency is known
		return m
	}
	v := app.InvoiceView{
		ID: s.ID, Number: s.Number, Status: s.Status, Currency: s.Currency, Customer: s.Customer,
		DueDate: s.DueDate, Lines: make([]invoice.Line, 0, len(s.Lines)), LineCount: int(r.lineCount),
		Payments: s.Payments, IssuedAt: s.IssuedAt, PaidAt: s.PaidAt, VoidedAt: s.VoidedAt,
		VoidReason: s.VoidReason, Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		Metadata: s.Metadata, MarkedUncollectibleAt: s.MarkedUncollectibleAt, OverdueAt: s.OverdueAt,
		Overdue: !s.OverdueAt.IsZero() && (s.Status == invoice.StatusOpen || s.Status == invoice.StatusUncollectible),
	}
	for _, in := range s.Lines {
		l, err := invoice.RehydrateLine(in, s.Currency)
		if err != nil {
			return app.InvoiceView{}, fmt.Errorf("invoice %s: %w", s.ID, err)
		}
		v.Lines = append(v.Lines, l)
	}
	v.Totals = invoice.Totals{
		Subtotal: money(r.subtotal), Tax: money(r.tax), Total: money(r.total),
		AmountPaid: money(r.amountPaid), AmountDue: money(r.total - r.amountPaid - r.preCredit),
		AmountCredited: money(r.preCredit + r.postCredit), RefundDue: money(r.postCredit),
	}
	return v, nil
}
