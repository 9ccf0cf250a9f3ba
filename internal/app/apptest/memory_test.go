package apptest_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/app/apptest"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

func TestMemoryInvoicesKeepTheContract(t *testing.T) {
	apptest.RunInvoicesContract(t, func(*testing.T) apptest.Subject {
		return apptest.Subject{
			Invoices:  apptest.NewInvoices(),
			NewTenant: func(*testing.T) invoice.TenantID { return invoice.TenantID(uuid.New()) },
		}
	})
}
