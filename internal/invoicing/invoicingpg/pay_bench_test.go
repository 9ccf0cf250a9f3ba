package invoicingpg_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// BenchmarkPayUpdate is the pay path's unit of work on PostgreSQL: one
// Update recording a payment of 1 cent (begin and load, fn, the guarded
// UPDATE with the payment and its event, commit), 16 writers at once, each
// on invoices of its own. With keyed, every payment is idempotent and its
// response stored. Compare runs side by side on one machine: the figure
// depends on it.
func BenchmarkPayUpdate(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		b.Run(fmt.Sprintf("keyed=%v", keyed), func(b *testing.B) {
			benchPay(b, keyed)
		})
	}
}

func benchPay(b *testing.B, keyed bool, opts ...invoicingpg.InvoicesOption) {
	e := newEnv(b, opts...)
	const invoices = 256
	open := make([]*invoice.Invoice, invoices)
	for i := range open {
		open[i] = e.createOpen(b, e.tenant)
	}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			var opts app.ChangeOptions
			if keyed {
				opts.Idempotency = &app.IdempotentRequest{Key: fmt.Sprint("k", i), Fingerprint: []byte("f")}
			}
			inv := open[i%invoices]
			_, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), opts, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
				one, _ := kernel.NewMoney(1, inv.Currency())
				if err := inv.Pay(one, fmt.Sprint("ref-", i), microClock{}.Now()); err != nil || !keyed {
					return app.Result{}, err
				}
				// A small result, as the bytes stored before results were.
				return app.Result{Resource: app.ResourceInvoice, ID: uuid.UUID(inv.ID()), Version: inv.Version(),
					View: fmt.Appendf(nil, "%s v%d", inv.ID(), inv.Version())}, nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPayHotInvoice is BenchmarkPayUpdate with every writer paying the
// same invoice in parts of 1 cent, none with a condition: 16 writers queue
// on one row, the contention a payment run against one large invoice makes.
// The writers move on to the next invoice together every 50 payments, so
// that an invoice's load stays the size of a real one. A change refused for
// the contention is counted (refused/op), not fatal, so that the figure is
// comparable with a repository that refuses some.
func BenchmarkPayHotInvoice(b *testing.B) {
	benchHot(b)
}

func benchHot(b *testing.B, opts ...invoicingpg.InvoicesOption) {
	e := newEnv(b, opts...)
	const perInvoice = 50
	open := make([]*invoice.Invoice, b.N/perInvoice+1)
	for i := range open {
		open[i] = e.createOpen(b, e.tenant)
	}
	var n, refused atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1) - 1
			inv := open[int(i)/perInvoice]
			_, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
				one, _ := kernel.NewMoney(1, inv.Currency())
				return app.Result{}, inv.Pay(one, fmt.Sprint("ref-", i), microClock{}.Now())
			})
			if err != nil {
				refused.Add(1)
			}
		}
	})
	b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
}
