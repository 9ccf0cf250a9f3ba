package invoicingpg_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func (e *env) credit(tenant kernel.TenantID, id invoice.ID, amount int64) (app.CreditNoteIssued, error) {
	return e.creditCtx(context.Background(), tenant, id, amount)
}

func (e *env) creditCtx(ctx context.Context, tenant kernel.TenantID, id invoice.ID, amount int64) (app.CreditNoteIssued, error) {
	return e.app.IssueCreditNote.Handle(ctx, app.IssueCreditNote{Tenant: tenant, InvoiceID: id,
		Amount: &amount, Reason: "order_change"})
}

// A credit note whose transaction fails just before its commit leaves no
// credit note, no event and no credit on the invoice, and uses up no
// number: the next one is CN-…-000001.
func TestCreditNoteFailingBeforeCommitLeavesNothingAndNoGap(t *testing.T) {
	t.Parallel()
	e, tracer := newEnvAfterWrites(t)
	inv := e.createOpen(t, e.tenant)
	before := e.state(t, inv.ID())
	if _, err := e.creditCtx(tracer.failNext(t), e.tenant, inv.ID(), 100); !errors.Is(err, context.Canceled) {
		t.Fatalf("credit: %v, want the cancellation", err)
	}
	if !tracer.sawWrites.Load() {
		t.Fatal("the failure did not come after the writes: it came at the wrong point")
	}
	if after := e.state(t, inv.ID()); after != before {
		t.Fatalf("invoice after a failed commit %+v, want %+v", after, before)
	}
	if n := e.count(t, `SELECT count(*) FROM credit_notes WHERE tenant_id = $1`, [16]byte(e.tenant)); n != 0 {
		t.Fatalf("%d credit notes after a failed commit", n)
	}
	issued, err := e.credit(e.tenant, inv.ID(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := creditnote.FormatNumber(issued.CreditNote.IssuedAt().Year(), 1); issued.CreditNote.Number() != want {
		t.Fatalf("next credit note %s, want %s: the failed one used a number", issued.CreditNote.Number(), want)
	}
}

// Twenty credit notes of 100 at once on an invoice of 1,200: exactly twelve
// are issued, the rest refused as exceeding the total;
// the credit notes' sum is the invoice's credited total, their numbers
// gapless 1..12, and each left its credit_note.issued event beside the
// invoice's invoice.credited.
func TestConcurrentCreditNotesNeverPassTheTotal(t *testing.T) {
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.credit(e.tenant, inv.ID(), 100)
		}()
	}
	wg.Wait()
	issued := 0
	for _, err := range errs {
		switch {
		case err == nil:
			issued++
		case !errors.Is(err, invoice.ErrCreditExceedsTotal):
			t.Errorf("credit: %v", err)
		}
	}
	got := e.get(t, inv.ID())
	var sum int64
	if err := e.pool.QueryRow(context.Background(), `SELECT coalesce(sum(amount), 0) FROM credit_notes WHERE invoice_id = $1`,
		[16]byte(inv.ID())).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if issued != 12 || sum != 1200 || got.AmountCredited().Amount() != 1200 || got.Status() != invoice.StatusPaid {
		t.Fatalf("%d issued, summing to %d; invoice credited %d, %s", issued, sum, got.AmountCredited().Amount(), got.Status())
	}
	rows, _ := e.pool.Query(context.Background(), `SELECT number FROM credit_notes WHERE tenant_id = $1 ORDER BY number`, [16]byte(e.tenant))
	var numbers []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		numbers = append(numbers, n)
	}
	year := got.UpdatedAt().Year()
	for i, n := range numbers {
		if want := creditnote.FormatNumber(year, int64(i+1)); n != want {
			t.Fatalf("numbers %v: not gapless", numbers)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM outbox WHERE event_type = 'credit_note.issued' AND tenant_id = $1`, [16]byte(e.tenant)); n != 12 {
		t.Errorf("%d credit_note.issued events", n)
	}
	if n := e.count(t, `SELECT count(*) FROM outbox WHERE event_type = 'invoice.credited' AND aggregate_id = $1`, [16]byte(inv.ID())); n != 12 {
		t.Errorf("%d invoice.credited events", n)
	}
}

// Fifty credit notes of 20 at once on an invoice of 1,200, none with a
// condition: each is issued, whatever the contention, and the invoice
// records fifty invoice.credited events, one per version, in version order.
func TestConcurrentCreditNotesAllLand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant)
	const workers, part = 50, 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, workers)
	for i := range errs {
		wg.Go(func() {
			<-start
			_, errs[i] = e.credit(e.tenant, inv.ID(), part)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("credit note %d: %v", i, err)
		}
	}
	got := e.get(t, inv.ID())
	if got.AmountCredited().Amount() != workers*part || got.Version() != inv.Version()+workers {
		t.Fatalf("credited %d at version %d, want %d at %d", got.AmountCredited().Amount(), got.Version(), workers*part, inv.Version()+workers)
	}
	if n := e.count(t, `SELECT count(*) FROM credit_notes WHERE invoice_id = $1`, [16]byte(inv.ID())); n != workers {
		t.Fatalf("%d credit notes stored, want %d", n, workers)
	}
	credited := 0
	for _, r := range e.outbox(t, inv.ID()) {
		if r.Version <= inv.Version() {
			continue
		}
		if r.Type != invoice.TypeCredited || r.Version != inv.Version()+int64(credited)+1 {
			t.Fatalf("event %s of version %d after %d invoice.credited: want invoice.credited, in version order", r.Type, r.Version, credited)
		}
		credited++
	}
	if credited != workers {
		t.Fatalf("%d invoice.credited events, want %d", credited, workers)
	}
}

// Forty credit notes at once over ten invoices, four each: every one is
// issued, and the tenant's numbering, which they all share, stays gapless.
func TestConcurrentCreditNotesOverTenInvoicesAllLand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invs := make([]*invoice.Invoice, 10)
	for i := range invs {
		invs[i] = e.createOpen(t, e.tenant)
	}
	const n = 40
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range errs {
		wg.Go(func() {
			<-start
			_, errs[i] = e.credit(e.tenant, invs[i%len(invs)].ID(), 100)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("credit note %d: %v", i, err)
		}
	}
	if got := e.count(t, `SELECT count(DISTINCT number) FROM credit_notes WHERE tenant_id = $1`, [16]byte(e.tenant)); got != n {
		t.Fatalf("%d credit note numbers, want %d", got, n)
	}
	year := e.get(t, invs[0].ID()).UpdatedAt().Year()
	if got := e.count(t, `SELECT count(*) FROM credit_notes WHERE tenant_id = $1 AND number = $2`, [16]byte(e.tenant),
		creditnote.FormatNumber(year, n)); got != 1 {
		t.Fatalf("no credit note numbered %s: the numbers have a gap", creditnote.FormatNumber(year, n))
	}
	for _, inv := range invs {
		if got := e.get(t, inv.ID()); got.AmountCredited().Amount() != 400 {
			t.Errorf("invoice %s credited %d, want 400", inv.ID(), got.AmountCredited().Amount())
		}
	}
}

func TestCreditNotesReadBack(t *testing.T) {
	e := newEnv(t)
	notes := invoicingpg.NewCreditNotes(e.pool)
	e.app.WithCreditNotes(notes)
	a, b := e.createOpen(t, e.tenant), e.createOpen(t, e.tenant)
	var ids []creditnote.ID
	for i, id := range []invoice.ID{a.ID(), b.ID(), a.ID()} {
		issued, err := e.app.IssueCreditNote.Handle(context.Background(), app.IssueCreditNote{Tenant: e.tenant, InvoiceID: id,
			Lines:  []creditnote.LineInput{{Description: fmt.Sprint("line ", i), Amount: 10}, {Description: "more", Amount: 5}},
			Reason: "duplicate", Memo: "memo"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, issued.CreditNote.ID())
		got, err := notes.Get(context.Background(), e.tenant, issued.CreditNote.ID())
		if err != nil || got.Number() != issued.CreditNote.Number() || got.Amount().Amount() != 15 || len(got.Lines()) != 2 ||
			got.IssuedAt() != issued.CreditNote.IssuedAt() || got.Memo() != "memo" {
			t.Fatalf("Get = %+v, %v; want %+v", got, err, issued.CreditNote)
		}
	}
	other := e.newTenant(t, "other")
	if _, err := notes.Get(context.Background(), other, ids[0]); !errors.Is(err, creditnote.ErrNotFound) {
		t.Errorf("another tenant's: %v", err)
	}
	list := func(f app.CreditNoteFilter) []creditnote.ID {
		t.Helper()
		var out []creditnote.ID
		for {
			page, err := notes.List(context.Background(), e.tenant, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range page.CreditNotes {
				out = append(out, v.ID)
			}
			if !page.HasMore {
				return out
			}
			last := out[len(out)-1]
			f.StartingAfter = &last
		}
	}
	newest := slices.Clone(ids)
	slices.Reverse(newest)
	if got := list(app.CreditNoteFilter{Limit: 1}); !slices.Equal(got, newest) {
		t.Errorf("all, one per page: %v, want %v", got, newest)
	}
	aID := a.ID()
	if got := list(app.CreditNoteFilter{InvoiceID: &aID, Limit: 1}); !slices.Equal(got, []creditnote.ID{ids[2], ids[0]}) {
		t.Errorf("invoice a's: %v", got)
	}
	missing := invoice.NewID()
	if _, err := notes.List(context.Background(), e.tenant, app.CreditNoteFilter{InvoiceID: &missing, Limit: 5}); !errors.Is(err, invoice.ErrNotFound) {
		t.Errorf("unknown invoice: %v", err)
	}
	bogus := creditnote.NewID()
	if _, err := notes.List(context.Background(), e.tenant, app.CreditNoteFilter{StartingAfter: &bogus, Limit: 5}); !errors.Is(err, app.ErrInvalidCursor) {
		t.Errorf("unknown cursor: %v", err)
	}
	if _, err := notes.List(context.Background(), e.tenant, app.CreditNoteFilter{InvoiceID: &aID, StartingAfter: &ids[1], Limit: 5}); !errors.Is(err, app.ErrInvalidCursor) {
		t.Errorf("cursor of another invoice: %v", err)
	}
}
