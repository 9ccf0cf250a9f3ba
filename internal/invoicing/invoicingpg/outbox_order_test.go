package invoicingpg_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// The relay and the event feed read an invoice's events in (txid, sequence)
// order and rely on it being version order. That holds only if a change
// takes its xid once it holds the invoice's row lock: a change that took
// one earlier (any write before the lock, e.g. storing its idempotency key)
// and then queued for the lock would build on a version committed under a
// younger xid, and sort before it. Here a change with an idempotency key
// queues behind a holder while a third transaction commits; the queued
// change's xid must come after the third's, and the invoice's events must
// sort in version order.
func TestAChangeTakesItsXidOnceItHoldsTheInvoice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	inv := e.create(t, e.tenant)
	addLine := func(inv *invoice.Invoice, desc string) (app.Result, error) {
		_, err := inv.AddLine(invoice.LineInput{Description: desc, Quantity: 1, UnitAmount: 1}, microClock{}.Now())
		return app.Result{Resource: app.ResourceInvoice, ID: uuid.UUID(inv.ID()), Version: inv.Version(), View: []byte(`{}`)}, err
	}

	holding, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		_, err := e.repo.Update(ctx, e.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
			close(holding)
			<-release
			return addLine(inv, "holder")
		})
		holder <- err
	}()
	<-holding
	queued := make(chan error, 1)
	go func() {
		key := &app.IdempotentRequest{Key: "queued", Fingerprint: []byte("f")}
		_, err := e.repo.Update(ctx, e.tenant, inv.ID(), app.ChangeOptions{Idempotency: key}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
			return addLine(inv, "queued")
		})
		queued <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var waiting bool
		if err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second change never queued for the invoice's lock")
		}
	}
	third := e.create(t, e.tenant)
	close(release)
	if err := <-holder; err != nil {
		t.Fatalf("holder: %v", err)
	}
	if err := <-queued; err != nil {
		t.Fatalf("queued change: %v", err)
	}

	var versions []int64
	rows, err := e.pool.Query(ctx, `SELECT aggregate_version FROM outbox WHERE aggregate_id = $1 ORDER BY txid, sequence`,
		uuid.UUID(inv.ID()))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for i, v := range versions {
		if v != int64(i+1) {
			t.Fatalf("the invoice's events in (txid, sequence) order have versions %v, want 1, 2, 3", versions)
		}
	}
	var queuedAfterThird bool
	if err := e.pool.QueryRow(ctx, `SELECT
    (SELECT txid FROM outbox WHERE aggregate_id = $1 AND aggregate_version = 3) >
    (SELECT txid FROM outbox WHERE aggregate_id = $2)`, uuid.UUID(inv.ID()), uuid.UUID(third.ID())).Scan(&queuedAfterThird); err != nil {
		t.Fatal(err)
	}
	if !queuedAfterThird {
		t.Error("the queued change took its xid before a transaction that committed while it waited for the lock")
	}
}

// Changes that take a number queue for the tenant's sequence. They must
// queue without an xid: the relay and the feed read only events of
// transactions older than every running one, so an issue waiting for the
// counter while holding an xid would hold back every event committed
// meanwhile, by any invoice.
func TestAnIssueQueuesForTheNumberWithoutAnXid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	first, second := e.create(t, e.tenant), e.create(t, e.tenant)
	opts := app.ChangeOptions{Numbers: app.InvoiceNumbers}
	issue := func(tx app.Tx, inv *invoice.Invoice) error {
		n, err := tx.NextInvoiceNumber(ctx, e.tenant, 2030)
		if err != nil {
			return err
		}
		return inv.Issue(invoice.FormatNumber(2030, n), microClock{}.Now())
	}

	holding, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		_, err := e.repo.Update(ctx, e.tenant, first.ID(), opts, func(_ context.Context, inv *invoice.Invoice, tx app.Tx) (app.Result, error) {
			err := issue(tx, inv)
			close(holding)
			<-release
			return app.Result{}, err
		})
		holder <- err
	}()
	<-holding
	queued := make(chan error, 1)
	go func() {
		_, err := e.repo.Update(ctx, e.tenant, second.ID(), opts, func(_ context.Context, inv *invoice.Invoice, tx app.Tx) (app.Result, error) {
			return app.Result{}, issue(tx, inv)
		})
		queued <- err
	}()
	var xid *string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var waiting bool
		if err := e.pool.QueryRow(ctx, `SELECT count(*) > 0, max(backend_xid::text) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting, &xid); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second issue never queued")
		}
	}
	close(release)
	if err := <-holder; err != nil {
		t.Fatalf("first issue: %v", err)
	}
	if err := <-queued; err != nil {
		t.Fatalf("second issue: %v", err)
	}
	if xid != nil {
		t.Errorf("the second issue waited for the tenant's number holding xid %s", *xid)
	}
	if got := e.get(t, second.ID()).Number(); got != invoice.FormatNumber(2030, 2) {
		t.Errorf("second issue got number %q, want the next after the first's", got)
	}
}
