package invoicingpg_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
)

func TestConcurrentIssuesGetGaplessNumbers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uc := app.New(e.repo, e.keys, invoicingpg.NewEvents(e.pool), fixedClock{time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)})
	const n = 50
	drafts := make([]*invoice.Invoice, n)
	for i := range drafts {
		drafts[i] = e.create(t, e.tenant)
	}

	numbers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, d := range drafts {
		wg.Go(func() {
			changed, err := uc.IssueInvoice.Handle(context.Background(), app.IssueInvoice{Tenant: e.tenant, InvoiceID: d.ID()})
			if err == nil {
				numbers[i] = changed.Invoice.Number()
			}
			errs[i] = err
		})
	}
	wg.Wait()

	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("issue %d: %v", i, errs[i])
		}
		if seen[numbers[i]] {
			t.Fatalf("number %s given twice", numbers[i])
		}
		seen[numbers[i]] = true
		if got := e.get(t, drafts[i].ID()).Number(); got != numbers[i] {
			t.Fatalf("stored number %s, returned %s", got, numbers[i])
		}
	}
	for k := 1; k <= n; k++ {
		if want := fmt.Sprintf("INV-2031-%06d", k); !seen[want] {
			t.Fatalf("number %s missing: numbers have a gap", want)
		}
	}
}

func TestFailedIssueGivesItsNumberBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	year := microClock{}.Now().Year()
	a, b := e.create(t, e.tenant), e.create(t, e.tenant)
	if got := e.createOpenFrom(t, a).Number(); got != invoice.FormatNumber(year, 1) {
		t.Fatalf("first number %s", got)
	}

	_, err := e.repo.Update(ctx, e.tenant, b.ID(), app.ChangeOptions{}, func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) (app.Result, error) {
		n, err := tx.NextInvoiceNumber(ctx, e.tenant, year)
		if err != nil {
			return app.Result{}, err
		}
		if n != 2 {
			return app.Result{}, fmt.Errorf("took number %d, want 2", n)
		}
		return app.Result{}, errInjected // fails after taking the number
	})
	if !errors.Is(err, errInjected) {
		t.Fatalf("Update: %v", err)
	}
	if got := e.createOpenFrom(t, b).Number(); got != invoice.FormatNumber(year, 2) {
		t.Fatalf("number after a failed issue %s, want %s", got, invoice.FormatNumber(year, 2))
	}

	// Another tenant and another year have sequences of their own.
	other := e.newTenant(t, "globex")
	if got := e.createOpenFrom(t, e.create(t, other)).Number(); got != invoice.FormatNumber(year, 1) {
		t.Fatalf("other tenant's first number %s", got)
	}
	// An update that records no event writes nothing, not even the number
	// its function took: asking twice gets the same one.
	draft := e.create(t, e.tenant)
	for range 2 {
		_, err = e.repo.Update(ctx, e.tenant, draft.ID(), app.ChangeOptions{}, func(ctx context.Context, _ *invoice.Invoice, tx app.Tx) (app.Result, error) {
			if n, err := tx.NextInvoiceNumber(ctx, e.tenant, year+1); err != nil || n != 1 {
				return app.Result{}, fmt.Errorf("next year's first number %d, %v; want 1", n, err)
			}
			return app.Result{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
