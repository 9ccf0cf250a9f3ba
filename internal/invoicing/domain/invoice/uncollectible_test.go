package invoice_test

import (
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

func TestMarkUncollectibleKeepsPaymentsAndAmounts(t *testing.T) {
	inv := given(t, "partly_paid")
	must(t, inv.MarkUncollectible(t1))
	evs := inv.PullEvents()
	e, ok := evs[0].(invoice.InvoiceMarkedUncollectible)
	if len(evs) != 1 || !ok || e.AmountPaid != 500 || e.AmountDue != 700 || e.Total != 1200 || e.Number != "INV-1" || !e.MarkedUncollectibleAt.Equal(t1) {
		t.Fatalf("events %+v", evs)
	}
	if inv.Status() != invoice.StatusUncollectible || inv.AmountPaid().Amount() != 500 || len(inv.Payments()) != 1 || !inv.MarkedUncollectibleAt().Equal(t1) {
		t.Errorf("status %s, paid %d, written off at %v", inv.Status(), inv.AmountPaid().Amount(), inv.MarkedUncollectibleAt())
	}
	// A later payment of what is due makes it paid; the write-off time stays.
	must(t, inv.Pay(money(t, 700, eur), "pay-2", t1))
	if inv.Status() != invoice.StatusPaid || !inv.MarkedUncollectibleAt().Equal(t1) {
		t.Errorf("after full payment: %s, written off at %v", inv.Status(), inv.MarkedUncollectibleAt())
	}
	if _, err := invoice.Rehydrate(snapshotOf(inv)); err != nil {
		t.Errorf("Rehydrate: %v", err)
	}
}
