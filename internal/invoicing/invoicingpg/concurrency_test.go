package invoicingpg_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/kernel"
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
		case errors.Is(err, invoice.ErrInvalidTransition), errors.Is(err, invoice.ErrOverpayment):
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

func TestConcurrentLineAdditionsAllLand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
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

// A change of an invoice that another change holds waits for it, then
// applies to the version it committed: the holder's function runs once, and
// the waiter's line comes after the holder's.
func TestAChangeWaitsForTheInvoiceItsRivalHolds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.create(t, e.tenant)
	var runs atomic.Int32
	rival := make(chan error, 1)
	changed, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
		runs.Add(1)
		go func() {
			_, _, err := e.app.AddLine.Handle(context.Background(), app.AddLine{Tenant: e.tenant, InvoiceID: inv.ID(),
				Line: invoice.LineInput{Description: "rival", Quantity: 1, UnitAmount: 1}})
			rival <- err
		}()
		select {
		case err := <-rival:
			return app.Result{}, fmt.Errorf("the rival's change ended (%v) while this one held the invoice", err)
		case <-time.After(300 * time.Millisecond):
		}
		_, err := inv.AddLine(invoice.LineInput{Description: "mine", Quantity: 1, UnitAmount: 1}, microClock{}.Now())
		return app.Result{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-rival; err != nil {
		t.Fatalf("the rival's change: %v", err)
	}
	if runs.Load() != 1 || changed.Invoice.Version() != 2 {
		t.Fatalf("function ran %d times, committed version %d; want once, 2", runs.Load(), changed.Invoice.Version())
	}
	var descs []string
	got := e.get(t, inv.ID())
	for _, l := range got.Lines() {
		descs = append(descs, l.Description)
	}
	if got.Version() != 3 || len(descs) != 4 || descs[2] != "mine" || descs[3] != "rival" {
		t.Fatalf("version %d lines %q, want version 3 ending with mine, rival", got.Version(), descs)
	}
}

// A change that waits for the invoice's lock longer than the lock timeout
// fails as busy (a 503 to retry, not a refusal), before its function ran.
func TestALockHeldPastTheLockTimeoutIsBusy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, invoicingpg.WithLockTimeout(100*time.Millisecond))
	inv := e.createOpen(t, e.tenant)
	ctx := context.Background()
	holder, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback(ctx) }()
	if _, err := holder.Exec(ctx, `SELECT FROM invoices WHERE id = $1 FOR UPDATE`, [16]byte(inv.ID())); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var runs atomic.Int32
	_, err = e.repo.Update(ctx, e.tenant, inv.ID(), app.ChangeOptions{}, func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) (app.Result, error) {
		runs.Add(1)
		return app.Result{}, nil
	})
	waited := time.Since(start)
	if !errors.Is(err, app.ErrInvoiceBusy) || failure.KindOf(err) != failure.Unavailable || runs.Load() != 0 {
		t.Fatalf("Update: %v (kind %s, function ran %d times), want ErrInvoiceBusy before the function", err, failure.KindOf(err), runs.Load())
	}
	if waited < 100*time.Millisecond || waited > 3*time.Second {
		t.Fatalf("failed after %s, want about the lock timeout (100ms)", waited)
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pay(e.tenant, inv.ID(), 100, "after"); err != nil {
		t.Fatalf("a payment once the lock is free: %v", err)
	}
}

// A race lost under the lock (here to a payment row written outside Update)
// is retried; one lost by every attempt is busy too, never a refusal.
func TestLostRaceBeyondMaxAttemptsIsBusy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, invoicingpg.WithMaxAttempts(1))
	inv := e.createOpen(t, e.tenant)
	_, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
		if _, err := e.pool.Exec(context.Background(), `INSERT INTO payments (id, invoice_id, amount, reference, received_at)
			VALUES (gen_random_uuid(), $1, 300, 'txn-1', now())`, inv.ID().String()); err != nil {
			return app.Result{}, err
		}
		amount, _ := kernel.NewMoney(300, inv.Currency())
		return app.Result{}, inv.Pay(amount, "txn-1", microClock{}.Now())
	})
	if !errors.Is(err, app.ErrInvoiceBusy) {
		t.Fatalf("Update: %v, want ErrInvoiceBusy", err)
	}
	if got := e.get(t, inv.ID()); got.Version() != inv.Version() {
		t.Fatalf("version %d, want %d: nothing of the lost attempt may stay", got.Version(), inv.Version())
	}
}

func TestPaymentReferenceInsertedConcurrentlyIsALostRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant)
	var runs atomic.Int32
	changed, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
		if runs.Add(1) == 1 {
			// Another writer's payment with this reference appears without a
			// version change, so only the unique constraint can catch it.
			_, err := e.pool.Exec(context.Background(), `INSERT INTO payments (id, invoice_id, amount, reference, received_at)
				VALUES (gen_random_uuid(), $1, 300, 'txn-1', now())`, inv.ID().String())
			if err != nil {
				return app.Result{}, err
			}
		}
		amount, _ := kernel.NewMoney(300, inv.Currency())
		return app.Result{}, inv.Pay(amount, "txn-1", microClock{}.Now())
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
