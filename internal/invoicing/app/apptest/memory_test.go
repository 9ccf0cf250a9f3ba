package apptest_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app/apptest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestMemoryInvoicesKeepTheContract(t *testing.T) {
	apptest.RunInvoicesContract(t, func(*testing.T) apptest.Subject {
		m := apptest.NewInvoices()
		notes, events := apptest.NewCreditNotes(m), apptest.NewEvents(m)
		return apptest.Subject{
			Invoices: m, InvoiceReader: m, LineList: m, InvoiceList: m,
			CreditNotes: notes, CreditNoteList: notes, EventHistory: events, EventFeed: events,
			NewTenant: func(*testing.T) kernel.TenantID { return kernel.TenantID(uuid.New()) },
			Events: func(_ *testing.T, id invoice.ID) []apptest.Recorded {
				var out []apptest.Recorded
				for _, e := range m.Events() {
					if e.AggregateID() == id {
						out = append(out, apptest.Recorded{Type: e.Type(), Version: e.Meta().Version})
					}
				}
				return out
			},
		}
	})
}
