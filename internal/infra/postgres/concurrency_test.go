package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/infra/postgres"
)

func TestConcurrentFullPaymentsHaveOneWinner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant)
	total := inv.Total().Amount()

	const workers = 20
	errs := make([]error, workers)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range workers {
		done.Go(func() {
			start.Wait()
			_, errs[i] = e.pay(e.tenant, inv.ID(), total, fmt.Sprintf("txn-%d", i))
		})
	}
	start.Done()
	done.Wait()

	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, invoice.ErrInvalidTransition), errors.Is(err, invoice.ErrConcurrentUpdate),
			errors.Is(err, invoice.ErrOverpayment):
		default:
			t.Errorf("worker %d: unexpected error %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d payments succeeded, want exactly 1", wins)
	}
	got := e.get(t, inv.ID())
	if got.Status() != invoice.StatusPaid || got.AmountPaid().Amount() != total || len(got.Payments()) != 1 {
		t.Fatalf("invoice %+v, want paid once in full", viewOf(got))
	}
	var amountPaid int64
	if err := e.pool.QueryRow(context.Background(), "SELECT amount_paid FROM invoices WHERE id = $1",
		inv.ID().String()).Scan(&amountPaid); err != nil || amountPaid != total {
		t.Fatalf("stored amount_paid %d (%v), want %d", amountPaid, err, total)
	}
	if n := e.count(t, "SELECT count(*) FROM payments WHERE invoice_id = $1", inv.ID().String()); n != 1 {
		t.Fatalf("%d payment rows, want 1", n)
	}
	if n := e.count(t, "SELECT count(*) FROM outbox WHERE aggregate_id = $1 AND event_type = $2",
		inv.ID().String(), invoice.TypePaid); n != 1 {
		t.Fatalf("%d invoice.paid events, want 1", n)
	}
}

func TestConcurrentChangesAllLandWhenRetriesSuffice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, postgres.WithMaxAttempts(100))
	inv := e.create(t, e.tenant)

	const workers = 10
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			_, _, errs[i] = e.app.AddLine.Handle(context.Background(), app.AddLine{Tenant: e.tenant, InvoiceID: inv.ID(),
				Line: invoice.LineInput{Description: fmt.Sprintf("line %d", i), Quantity: 1, UnitAmount: 1}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	got := e.get(t, inv.ID())
	if len(got.Lines()) != 2+workers || got.Version() != 1+workers {
		t.Fatalf("%d lines at version %d, want %d at %d", len(got.Lines()), got.Version(), 2+workers, 1+workers)
	}
	for i, r := range e.outbox(t, inv.ID()) {
		if r.Version != int64(i+1) {
			t.Fatalf("outbox row %d has version %d: versions must be consecutive", i, r.Version)
		}
	}
}

// lostRaceOnce returns an UpdateFunc that adds a line, and that on its first
// run commits a competing change first, so that its own write loses the race.
func lostRaceOnce(t *testing.T, e *env, runs *atomic.Int32) app.UpdateFunc {
	return func(_ context.Context, inv *invoice.Invoice, _ app.Tx) error {
		if runs.Add(1) == 1 {
			_, _, err := e.app.AddLine.Handle(context.Background(), app.AddLine{Tenant: e.tenant, InvoiceID: inv.ID(),
				Line: invoice.LineInput{Description: "competitor", Quantity: 1, UnitAmount: 1}})
			if err != nil {
				t.Errorf("competing update: %v", err)
			}
		}
		_, err := inv.AddLine(invoice.LineInput{Description: "mine", Quantity: 1, UnitAmount: 1}, microClock{}.Now())
		return err
	}
}

func TestLostRaceIsRetriedOnAFreshLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.create(t, e.tenant)
	var runs atomic.Int32
	changed, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, lostRaceOnce(t, e, &runs))
	if err != nil {
		t.Fatal(err)
	}
	got := changed.Invoice
	if runs.Load() != 2 {
		t.Fatalf("function ran %d times, want 2", runs.Load())
	}
	var descs []string
	for _, l := range got.Lines() {
		descs = append(descs, l.Description)
	}
	if got.Version() != 3 || len(descs) != 4 || descs[2] != "competitor" || descs[3] != "mine" {
		t.Fatalf("version %d lines %q, want version 3 ending with competitor, mine", got.Version(), descs)
	}
	assertSameInvoice(t, e.get(t, inv.ID()), got)
}

func TestLostRaceBeyondMaxAttemptsIsAConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, postgres.WithMaxAttempts(1))
	inv := e.create(t, e.tenant)
	var runs atomic.Int32
	_, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, lostRaceOnce(t, e, &runs))
	if !errors.Is(err, invoice.ErrConcurrentUpdate) {
		t.Fatalf("Update: %v, want ErrConcurrentUpdate", err)
	}
	got := e.get(t, inv.ID())
	if got.Version() != 2 || len(got.Lines()) != 3 {
		t.Fatalf("version %d with %d lines, want only the competitor's change (2, 3)", got.Version(), len(got.Lines()))
	}
	if n := len(e.outbox(t, inv.ID())); n != 2 {
		t.Fatalf("%d outbox rows, want 2", n)
	}
}

func TestPaymentReferenceInsertedConcurrentlyIsALostRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant)
	var runs atomic.Int32
	changed, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) error {
		if runs.Add(1) == 1 {
			// Another writer's payment with this reference appears without a
			// version change, so only the unique constraint can catch it.
			_, err := e.pool.Exec(context.Background(), `INSERT INTO payments (id, invoice_id, amount, reference, received_at)
				VALUES (gen_random_uuid(), $1, 300, 'txn-1', now())`, inv.ID().String())
			if err != nil {
				return err
			}
		}
		amount, _ := invoice.NewMoney(300, inv.Currency())
		return inv.Pay(amount, "txn-1", microClock{}.Now())
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if runs.Load() != 2 {
		t.Fatalf("function ran %d times, want 2 (the second sees the payment as a replay)", runs.Load())
	}
	if got := changed.Invoice; len(got.Payments()) != 1 || got.Version() != inv.Version() {
		t.Fatalf("%d payments at version %d, want the other writer's payment only", len(changed.Invoice.Payments()), changed.Invoice.Version())
	}
}
