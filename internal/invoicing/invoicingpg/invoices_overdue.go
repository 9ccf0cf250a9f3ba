package invoicingpg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var _ app.OverdueCandidates = (*Invoices)(nil)

// dueInvoicesSQL reads the overdue job's candidates through the partial index
// invoices_overdue_candidates (migration 000008), by id after $2. Its
// predicate repeats the index's, so the planner can use it.
const dueInvoicesSQL = `SELECT tenant_id, id FROM invoices
WHERE status IN ('open', 'uncollectible') AND overdue_at IS NULL AND due_date IS NOT NULL
    AND due_date < $1::date AND id > $2::uuid
ORDER BY id LIMIT $3::bigint`

// DueInvoices implements app.OverdueCandidates.DueInvoices over every tenant.
// It returns database errors wrapped.
func (r *Invoices) DueInvoices(ctx context.Context, asOf time.Time, after *invoice.ID, limit int) (_ []app.InvoiceKey, err error) {
	defer markUnavailable(&err)
	var from [16]byte // the nil UUID sorts first
	if after != nil {
		from = *after
	}
	rows, err := r.pool.Query(ctx, dueInvoicesSQL, asOf.UTC().Format(time.DateOnly), from, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: due invoices: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.InvoiceKey, error) {
		var tenant, id [16]byte
		err := row.Scan(&tenant, &id)
		return app.InvoiceKey{Tenant: kernel.TenantID(tenant), ID: invoice.ID(id)}, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: due invoices: %w", err)
	}
	return keys, nil
}
