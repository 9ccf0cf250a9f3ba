package apptest

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

var _ app.OverdueCandidates = (*Invoices)(nil)

// DueInvoices implements app.OverdueCandidates as the PostgreSQL repository
// does: the open or uncollectible invoices of every tenant due before asOf's
// date (UTC) and not recorded overdue, by id, after after.
func (m *Invoices) DueInvoices(_ context.Context, asOf time.Time, after *invoice.ID, limit int) ([]app.InvoiceKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	today := asOf.UTC().Truncate(24 * time.Hour)
	var out []app.InvoiceKey
	for _, s := range m.invoices {
		if (s.Status == invoice.StatusOpen || s.Status == invoice.StatusUncollectible) && s.OverdueAt.IsZero() &&
			!s.DueDate.IsZero() && s.DueDate.Before(today) && (after == nil || bytes.Compare(s.ID[:], after[:]) > 0) {
			out = append(out, app.InvoiceKey{Tenant: s.Tenant, ID: s.ID})
		}
	}
	slices.SortFunc(out, func(a, b app.InvoiceKey) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out[:min(len(out), limit)], nil
}
