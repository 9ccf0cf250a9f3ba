package invoicingpg

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice/invoicetest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// BenchmarkPrepareUpdate500Lines is the in-process work of one Update of an
// invoice of 500 lines after fn ran: the committed copy and the queued writes.
func BenchmarkPrepareUpdate500Lines(b *testing.B) {
	inv := invoicetest.Full(b, 0)
	snap := invoice.Snapshot{Lines: make([]invoice.LineInputWithID, 0, invoice.MaxLines)}
	for _, l := range inv.Lines() {
		snap.Lines = append(snap.Lines, invoice.LineInputWithID{ID: l.ID})
	}
	one, _ := kernel.NewMoney(100, "EUR")
	if err := inv.Pay(one, "pay-1", invoicetest.Time); err != nil {
		b.Fatal(err)
	}
	events := inv.PullEvents()
	b.ReportAllocs()
	for b.Loop() {
		committed, err := asCommitted(inv)
		if err != nil {
			b.Fatal(err)
		}
		wb := &pgx.Batch{}
		queueUpdate(wb, inv, snap.Version)
		queueChildren(wb, inv, snap.Lines, snap.Payments)
		if err := queueOutbox(wb, events, outbox.Trace{}); err != nil {
			b.Fatal(err)
		}
		_ = committed
	}
}

// BenchmarkReadRow500Lines is the in-process work of reading an invoice of
// 500 lines (Get, List, and the load of Update): the scanned row to an invoice.
func BenchmarkReadRow500Lines(b *testing.B) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	number := "INV-1"
	r := invoiceRow{
		id: invoice.NewID(), tenant: invoice.NewID(), number: &number, status: "open", currency: "EUR",
		name: "ACME", email: "billing@acme.example", issuedAt: &now, version: 2, createdAt: now, updatedAt: now,
	}
	for i := range invoice.MaxLines {
		r.lineIDs = append(r.lineIDs, invoice.NewID())
		r.descriptions = append(r.descriptions, fmt.Sprintf("consulting, item %d", i))
		r.quantities, r.unitAmounts, r.taxRates = append(r.quantities, 3), append(r.unitAmounts, 1999), append(r.taxRates, 2000)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.invoice(); err != nil {
			b.Fatal(err)
		}
	}
}
