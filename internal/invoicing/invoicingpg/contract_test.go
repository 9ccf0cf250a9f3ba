package invoicingpg_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app/apptest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// The repository and its read ports keep the contract of app.Invoices, the
// reads of one invoice, the lists, the history and the feed that the
// in-memory ones keep too
// (internal/invoicing/app/apptest), each subtest on a fresh database.
func TestInvoicesKeepTheContract(t *testing.T) {
	apptest.RunInvoicesContract(t, func(t *testing.T) apptest.Subject {
		e := newEnv(t)
		var tenants atomic.Int32
		notes, events := invoicingpg.NewCreditNotes(e.pool), invoicingpg.NewEvents(e.pool)
		return apptest.Subject{
			Invoices: e.repo, InvoiceReader: e.repo, LineList: e.repo, InvoiceList: e.repo,
			CreditNotes: notes, CreditNoteList: notes, EventHistory: events, EventFeed: events,
			NewTenant: func(t *testing.T) kernel.TenantID {
				return e.newTenant(t, fmt.Sprintf("tenant-%d", tenants.Add(1)))
			},
			Events: func(t *testing.T, id invoice.ID) []apptest.Recorded {
				var out []apptest.Recorded
				for _, r := range e.outbox(t, id) {
					out = append(out, apptest.Recorded{Type: r.Type, Version: r.Version})
				}
				return out
			},
		}
	})
}
