package invoicingpg_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

var errInjected = errors.New("injected failure")

// state is what a failed write must leave unchanged.
type state struct {
	version  int64
	status   string
	payments int
	events   int
}

func (e *env) state(t *testing.T, id invoice.ID) state {
	t.Helper()
	var s state
	err := e.pool.QueryRow(context.Background(), `SELECT version, status,
		(SELECT count(*) FROM payments WHERE invoice_id = $1),
		(SELECT count(*) FROM outbox WHERE aggregate_id = $1)
		FROM invoices WHERE id = $1`, id.String()).Scan(&s.version, &s.status, &s.payments, &s.events)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// afterWrites is a pgx tracer that, once armed, runs a function on the
// writer's goroutine as soon as a change's write batch has run without
// error: every write is then in the transaction, uncommitted, and COMMIT is
// the next step. It fires once per arming.
type afterWrites struct {
	armed     atomic.Bool
	sawUpdate atomic.Bool
	sawWrites atomic.Bool
	do        func()
}

// newEnvAfterWrites returns an env whose pool is traced by the returned
// afterWrites.
func newEnvAfterWrites(t *testing.T) (*env, *afterWrites) {
	t.Helper()
	tracer := &afterWrites{}
	pool, err := invoicingpg.Connect(context.Background(), pgtest.NewURL(t), func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = tracer })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return newEnvOn(t, pool), tracer
}

// arm has the tracer run do after the next change's writes.
func (a *afterWrites) arm(do func()) {
	a.do = do
	a.sawUpdate.Store(false)
	a.sawWrites.Store(false)
	a.armed.Store(true)
}

// failNext arms the tracer to fail the next change just before its COMMIT
// by cancelling the context it returns, which the change must be given.
func (a *afterWrites) failNext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a.arm(cancel)
	return ctx
}

func (a *afterWrites) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (a *afterWrites) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (a *afterWrites) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery notes the guarded UPDATE of the invoice and the insert of
// its events into the outbox, both done.
func (a *afterWrites) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	if !a.armed.Load() || d.Err != nil {
		return
	}
	switch {
	case strings.HasPrefix(d.SQL, "UPDATE invoices SET") && d.CommandTag.RowsAffected() == 1:
		a.sawUpdate.Store(true)
	case strings.HasPrefix(d.SQL, "INSERT INTO outbox") && d.CommandTag.RowsAffected() > 0:
		a.sawWrites.Store(a.sawUpdate.Load())
	}
}

func (a *afterWrites) TraceBatchEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	if a.sawWrites.Load() && d.Err == nil && a.armed.CompareAndSwap(true, false) {
		a.do()
	}
}

func TestFailureJustBeforeCommitLeavesNeitherStateNorEvents(t *testing.T) {
	t.Parallel()
	e, tracer := newEnvAfterWrites(t)
	inv := e.createOpen(t, e.tenant)
	before := e.state(t, inv.ID())
	commits := e.commits.Load()

	_, err := e.payCtx(tracer.failNext(t), e.tenant, inv.ID(), inv.Total().Amount(), "txn-1") // records two events
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("pay: %v, want the cancellation", err)
	}
	if !tracer.sawWrites.Load() {
		t.Fatal("the failure did not come after the writes: it came at the wrong point")
	}
	if after := e.state(t, inv.ID()); after != before {
		t.Fatalf("state after a failed commit %+v, want %+v", after, before)
	}
	if e.commits.Load() != commits {
		t.Fatal("after-commit hook ran for a failed write")
	}
	if got := e.pool.Stat().AcquiredConns(); got != 0 {
		t.Fatalf("%d connections still acquired", got)
	}
}

func TestCommitFailureIsReturnedAndLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant)
	// A deferred constraint trigger runs at COMMIT, so the commit itself fails.
	_, err := e.pool.Exec(context.Background(), `
		CREATE FUNCTION reject_paid() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'paid rejected at commit' USING ERRCODE = 'P0001'; END $$;
		CREATE CONSTRAINT TRIGGER reject_paid AFTER INSERT ON outbox DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW WHEN (NEW.event_type = 'invoice.paid') EXECUTE FUNCTION reject_paid();`)
	if err != nil {
		t.Fatal(err)
	}
	before := e.state(t, inv.ID())
	commits := e.commits.Load()

	_, err = e.pay(e.tenant, inv.ID(), inv.Total().Amount(), "txn-1")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "P0001" {
		t.Fatalf("pay: %v, want the commit's error", err)
	}
	if after := e.state(t, inv.ID()); after != before {
		t.Fatalf("state after a failed commit %+v, want %+v", after, before)
	}
	if e.commits.Load() != commits {
		t.Fatal("after-commit hook ran for a failed commit")
	}
}

func TestAddIsAtomic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The outbox insert is the batch's last statement; make it fail.
	if _, err := e.pool.Exec(context.Background(),
		`ALTER TABLE outbox ADD CONSTRAINT reject_created CHECK (event_type <> 'invoice.created')`); err != nil {
		t.Fatal(err)
	}
	_, err := e.app.CreateInvoice.Handle(context.Background(), app.CreateInvoice{
		Tenant: e.tenant, Customer: invoice.Customer{Name: "Ada", Email: "ada@example.com"}, Currency: "EUR",
		Lines: []invoice.LineInput{{Description: "x", Quantity: 1, UnitAmount: 1}},
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.ConstraintName != "reject_created" {
		t.Fatalf("create: %v, want the outbox check violation", err)
	}
	for _, table := range []string{"invoices", "invoice_lines", "outbox"} {
		if n := e.count(t, "SELECT count(*) FROM "+table); n != 0 {
			t.Errorf("%d rows in %s after a failed Add", n, table)
		}
	}
	if e.commits.Load() != 0 {
		t.Fatal("after-commit hook ran for a failed Add")
	}
}

func TestUpdateFunctionErrorRollsBackAndIsReturnedUnchanged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.create(t, e.tenant)
	before := e.state(t, inv.ID())
	_, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) (app.Result, error) {
		if _, err := inv.AddLine(invoice.LineInput{Description: "x", Quantity: 1, UnitAmount: 1}, microClock{}.Now()); err != nil {
			return app.Result{}, err
		}
		if _, err := tx.NextInvoiceNumber(ctx, e.tenant, 2030); err != nil {
			return app.Result{}, err
		}
		return app.Result{}, errInjected
	})
	if err != errInjected { // the very error, not a wrapper
		t.Fatalf("Update: %v, want the function's error unchanged", err)
	}
	if after := e.state(t, inv.ID()); after != before {
		t.Fatalf("state %+v, want %+v", after, before)
	}
	if n := e.count(t, "SELECT count(*) FROM invoice_lines WHERE invoice_id = $1", inv.ID().String()); n != 2 {
		t.Fatalf("%d lines, want 2", n)
	}
	if n := e.count(t, "SELECT count(*) FROM invoice_number_counters"); n != 0 {
		t.Fatalf("%d counters: the number taken was kept", n)
	}
}

func TestReplayedPaymentWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant)
	first, err := e.pay(e.tenant, inv.ID(), 300, "txn-1")
	if err != nil {
		t.Fatal(err)
	}
	before := e.state(t, inv.ID())
	commits := e.commits.Load()

	again, err := e.pay(e.tenant, inv.ID(), 300, "txn-1")
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	assertSameInvoice(t, again, first)
	if after := e.state(t, inv.ID()); after != before {
		t.Fatalf("state after a replay %+v, want %+v", after, before)
	}
	if e.commits.Load() != commits {
		t.Fatal("after-commit hook ran for a replay")
	}
	if _, err := e.pay(e.tenant, inv.ID(), 301, "txn-1"); !errors.Is(err, invoice.ErrReferenceConflict) {
		t.Fatalf("same reference, other amount: %v, want ErrReferenceConflict", err)
	}
}

func TestPanickingFunctionReleasesItsTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.create(t, e.tenant)
	before := e.state(t, inv.ID())
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not propagate")
			}
		}()
		_, _ = e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, func(context.Context, *invoice.Invoice, app.Tx) (app.Result, error) {
			panic("boom")
		})
	}()
	if got := e.pool.Stat().AcquiredConns(); got != 0 {
		t.Fatalf("%d connections still acquired", got)
	}
	if after := e.state(t, inv.ID()); after != before {
		t.Fatalf("state %+v, want %+v", after, before)
	}
}
