package apptest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Subject is an implementation of app.Invoices under test, with the read
// ports over the same store and what the contract needs around it.
type Subject struct {
	Invoices       app.Invoices
	InvoiceReader  app.InvoiceReader
	LineList       app.LineList
	InvoiceList    app.InvoiceList
	CreditNotes    app.CreditNotes
	CreditNoteList app.CreditNoteList
	EventHistory   app.EventHistory
	EventFeed      app.EventFeed
	// NewTenant returns a new tenant whose invoices Invoices accepts.
	NewTenant func(t *testing.T) kernel.TenantID
	// Events returns the events Invoices committed for the invoice, in
	// commit order.
	Events func(t *testing.T, id invoice.ID) []Recorded
}

// Recorded is a committed event as the contract compares it.
type Recorded struct {
	Type    string
	Version int64
}

// Now is the time of the contract's changes: whole microseconds, as
// PostgreSQL keeps them, so what is read back equals what was written.
var Now = time.Date(2030, 6, 1, 9, 30, 0, 123456000, time.UTC)

// errInjected is a use case's failure inside the unit of work.
var errInjected = errors.New("apptest: injected failure")

// RunInvoicesContract checks that an implementation of app.Invoices and its
// read ports keep the ports' contract: a change commits whole or not at all,
// a credit note with its invoice's change, concurrent changes of one invoice
// all land, one after the other, unless the rules refuse them (then one wins
// a race for the last of something), the idempotent response commits with
// its change, invoice numbers are gapless, the lists (of invoices, of an
// invoice's lines, of credit notes), an invoice's history and the feed page
// through everything once, and each tenant sees only its own invoices.
// newSubject returns a fresh, empty repository; each subtest gets its own.
func RunInvoicesContract(t *testing.T, newSubject func(t *testing.T) Subject) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Subject)
	}{
		{"AddThenGet", testAddThenGet},
		{"UpdateCommitsTheChange", testUpdateCommits},
		{"FunctionErrorRollsEverythingBack", testRollback},
		{"PanicRollsBackAndReleases", testPanic},
		{"NoEventWritesNothing", testNoEvent},
		{"ConcurrentUpdatesHaveOneWinner", testOneWinner},
		{"ConcurrentPaymentsAllLand", testConcurrentPayments},
		{"ConcurrentPaymentsAndEditsAllLand", testConcurrentMix},
		{"ConcurrentIssuesGetGaplessNumbers", testGapless},
		{"IdempotentResponseCommitsWithTheChange", testIdempotency},
		{"IdempotentAdd", testIdempotentAdd},
		{"TenantIsolation", testTenantIsolation},
		{"CreditNoteCommitsWithTheInvoice", testCreditNoteTransaction},
		{"InvoiceListPages", testInvoiceListPages},
		{"InvoiceListViews", testInvoiceListViews},
		{"CreditNoteListPages", testCreditNoteListPages},
		{"FeedPages", testFeedPages},
		{"LineListPages", testLineListPages},
		{"HistoryPages", testHistoryPages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newSubject(t))
		})
	}
}

// newDraft returns a draft of tenant with two lines totalling 1,200.
func newDraft(t *testing.T, tenant kernel.TenantID) *invoice.Invoice {
	t.Helper()
	inv, err := invoice.New(invoice.NewID(), tenant, "EUR", invoice.Customer{Name: "Ada Lovelace", Email: "ada@example.com"},
		time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC), []invoice.LineInput{
			{Description: "Consulting", Quantity: 2, UnitAmount: 300, TaxRateBPS: 2000},
			{Description: "Support", Quantity: 1, UnitAmount: 400, TaxRateBPS: 2000},
		}, Now)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func add(t *testing.T, s Subject, tenant kernel.TenantID) *invoice.Invoice {
	t.Helper()
	changed, err := s.Invoices.Add(context.Background(), newDraft(t, tenant), app.ChangeOptions{}, app.Result{})
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	return changed.Invoice
}

// update runs fn in an Update without options.
func update(s Subject, tenant kernel.TenantID, id invoice.ID, fn app.UpdateFunc) (app.Changed, error) {
	return s.Invoices.Update(context.Background(), tenant, id, app.ChangeOptions{}, fn)
}

// answering returns an UpdateFunc running fn and answering, as a use case
// does, with the invoice as fn left it (answer), whether or not the change
// has a key.
func answering(fn func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) error) app.UpdateFunc {
	return func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) (app.Result, error) {
		if err := fn(ctx, inv, tx); err != nil {
			return app.Result{}, err
		}
		return answer(inv), nil
	}
}

// answer returns a Result naming the invoice and its version, its view
// bytes the repository stores without reading them.
func answer(inv *invoice.Invoice) app.Result {
	return app.Result{Resource: app.ResourceInvoice, ID: uuid.UUID(inv.ID()), Version: inv.Version(),
		View: fmt.Appendf(nil, "%s v%d", inv.ID(), inv.Version())}
}

// issue issues the invoice with the tenant's next number.
var issue = answering(func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) error {
	n, err := tx.NextInvoiceNumber(ctx, inv.Tenant(), Now.Year())
	if err != nil {
		return err
	}
	return inv.Issue(invoice.FormatNumber(Now.Year(), n), Now)
})

var addLine = answering(func(_ context.Context, inv *invoice.Invoice, _ app.Tx) error {
	_, err := inv.AddLine(invoice.LineInput{Description: "Extra", Quantity: 1, UnitAmount: 100}, Now)
	return err
})

func get(t *testing.T, s Subject, tenant kernel.TenantID, id invoice.ID) *invoice.Invoice {
	t.Helper()
	inv, err := s.InvoiceReader.Get(context.Background(), tenant, id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return inv
}

// state is what the contract compares of an invoice.
type state struct {
	version  int64
	status   invoice.Status
	number   string
	lines    int
	payments int
	total    int64
	paid     int64
}

func stateOf(inv *invoice.Invoice) state {
	return state{inv.Version(), inv.Status(), inv.Number(), inv.LineCount(), len(inv.Payments()),
		inv.Total().Amount(), inv.AmountPaid().Amount()}
}

func testAddThenGet(t *testing.T, s Subject) {
	tenant := s.NewTenant(t)
	inv := add(t, s, tenant)
	got := get(t, s, tenant, inv.ID())
	if stateOf(got) != stateOf(inv) || got.Customer() != inv.Customer() || !got.CreatedAt().Equal(inv.CreatedAt()) {
		t.Fatalf("read back %+v, want %+v", stateOf(got), stateOf(inv))
	}
	if _, err := s.InvoiceReader.Get(context.Background(), tenant, invoice.NewID()); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("Get of no invoice: %v, want ErrNotFound", err)
	}
	if _, err := update(s, tenant, invoice.NewID(), addLine); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("Update of no invoice: %v, want ErrNotFound", err)
	}
}

func testUpdateCommits(t *testing.T, s Subject) {
	tenant := s.NewTenant(t)
	inv := add(t, s, tenant)
	changed, err := update(s, tenant, inv.ID(), addLine)
	if err != nil {
		t.Fatal(err)
	}
	if changed.Invoice.Version() != 2 || changed.Invoice.LineCount() != 3 || !changed.Result.IsZero() {
		t.Fatalf("Update returned version %d with %d lines (result %+v), want 2 and 3, none stored without a key",
			changed.Invoice.Version(), changed.Invoice.LineCount(), changed.Result)
	}
	if got := get(t, s, tenant, inv.ID()); stateOf(got) != stateOf(changed.Invoice) {
		t.Fatalf("read back %+v, want the committed %+v", stateOf(got), stateOf(changed.Invoice))
	}
}

func testRollback(t *testing.T, s Subject) {
	tenant := s.NewTenant(t)
	inv := add(t, s, tenant)
	before := stateOf(get(t, s, tenant, inv.ID()))
	_, err := update(s, tenant, inv.ID(), answering(func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) error {
		if _, err := addLine(ctx, inv, tx); err != nil {
			return err
		}
		if _, err := issue(ctx, inv, tx); err != nil {
			return err
		}
		return errInjected
	}))
	if !errors.Is(err, errInjected) {
		t.Fatalf("Update: %v, want the function's error", err)
	}
	if after := stateOf(get(t, s, tenant, inv.ID())); after != before {
		t.Fatalf("after a failed update %+v, want %+v", after, before)
	}
	changed, err := update(s, tenant, inv.ID(), issue)
	if err != nil {
		t.Fatal(err)
	}
	if want := invoice.FormatNumber(Now.Year(), 1); changed.Invoice.Number() != want {
		t.Fatalf("number after a rolled-back issue %s, want %s: the number was not given back", changed.Invoice.Number(), want)
	}
}

func testPanic(t *testing.T, s Subject) {
	tenant := s.NewTenant(t)
	inv := add(t, s, tenant)
	before := stateOf(get(t, s, tenant, inv.ID()))
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not propagate")
			}
		}()
		_, _ = update(s, tenant, inv.ID(), answering(func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) error {
			if _, err := issue(ctx, inv, tx); err != nil {
				return err
			}
			panic("boom")
		}))
	}()
	if after := stateOf(get(t, s, tenant, inv.ID())); after != before {
		t.Fatalf("after a panic %+v, want %+v", after, before)
	}
	// The number the panicking function took is back, its counter free.
	changed, err := update(s, tenant, inv.ID(), issue)
	if err != nil || changed.Invoice.Number() != invoice.FormatNumber(Now.Year(), 1) {
		t.Fatalf("issue after a panic: %v, number %v", err, changed.Invoice)
	}
}

func testNoEvent(t *testing.T, s Subject) {
	tenant := s.NewTenant(t)
	inv := add(t, s, tenant)
	key := request("k", "first")
	changed, err := s.Invoices.Update(context.Background(), tenant, inv.ID(), app.ChangeOptions{Idempotency: key},
		answering(func(ctx context.Context, _ *invoice.Invoice, tx app.Tx) error {
			_, err := tx.NextInvoiceNumber(ctx, tenant, Now.Year())
			return err
		}))
	if err != nil || changed.Invoice == nil || changed.Invoice.Version() != 1 || !changed.Result.IsZero() {
		t.Fatalf("an update recording nothing: %v, %+v; want the invoice as loaded, no result", err, changed)
	}
	// Neither the key nor the number was kept.
	changed, err = s.Invoices.Update(context.Background(), tenant, inv.ID(), app.ChangeOptions{Idempotency: request("k", "other")}, issue)
	if err != nil {
		t.Fatalf("the key of an update that stored nothing, for another request: %v, want a fresh change", err)
	}
	if want := invoice.FormatNumber(Now.Year(), 1); changed.Invoice.Number() != want {
		t.Fatalf("number %s, want %s", changed.Invoice.Number(), want)
	}
}

// testOneWinner has workers pay the whole of one invoice at once, each
// with its own reference, as wild-workouts' N-workers-one-winner test: one
// payment is recorded, every other worker is refused by the rules (the
// invoice is paid), never for the contention.
func testOneWinner(t *testing.T, s Subject) {
	tenant := s.NewTenant(t)
	open := openInvoice(t, s, tenant)
	const workers = 8
	// Every worker's first run waits for the others to have loaded the
	// invoice too, so that they race on the same version; if the repository
	// serializes them, the first to wait gives up waiting after a while, and
	// so does everyone after it.
	var loaded atomic.Int32
	var once sync.Once
	all := make(chan struct{})
	errs := concurrently(workers, func(w int) error {
		first := true
		_, err := update(s, tenant, open.ID(), answering(func(_ context.Context, inv *invoice.Invoice, _ app.Tx) error {
			if first {
				first = false
				if loaded.Add(1) == workers {
					once.Do(func() { close(all) })
				}
				select {
				case <-all:
				case <-time.After(500 * time.Millisecond):
					once.Do(func() { close(all) })
				}
			}
			return inv.Pay(open.Total(), fmt.Sprintf("worker-%d", w), Now)
		}))
		return err
	})
	won := 0
	for w, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, invoice.ErrInvalidTransition):
		default:
			t.Errorf("worker %d: %v, want a win or ErrInvalidTransition", w, err)
		}
	}
	got := get(t, s, tenant, open.ID())
	if won != 1 || len(got.Payments()) != 1 || got.Status() != invoice.StatusPaid {
		t.Fatalf("%d winners, %d payments, status %s; want one of each, paid", won, len(got.Payments()), got.Status())
	}
}

// concurrently starts n workers at once and returns their errors.
func concurrently(n int, work func(w int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			<-start
			errs[w] = work(w)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// pay returns an UpdateFunc paying amount under reference. It takes a
// moment first, as a use case doing real work would, so that concurrent
// updates overlap even where a change costs next to nothing (in memory).
func pay(amount int64, reference string) app.UpdateFunc {
	return answering(func(_ context.Context, inv *invoice.Invoice, _ app.Tx) error {
		time.Sleep(time.Millisecond)
		m, err := kernel.NewMoney(amount, inv.Currency())
		if err != nil {
			return err
		}
		return inv.Pay(m, reference, Now)
	})
}

// openInvoice adds an invoice of tenant and issues it.
func openInvoice(t *testing.T, s Subject, tenant kernel.TenantID) *invoice.Invoice {
	t.Helper()
	open, err := update(s, tenant, add(t, s, tenant).ID(), issue)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return open.Invoice
}

// assertEventsFollow checks that the invoice's events after version from
// are of the types want (in any order), one per version, in version order.
func assertEventsFollow(t *testing.T, s Subject, id invoice.ID, from int64, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	next := from + 1
	for _, e := range s.Events(t, id) {
		if e.Version <= from {
			continue
		}
		if e.Version != next {
			t.Fatalf("event %s of version %d after version %d: not in version order", e.Type, e.Version, next-1)
		}
		next++
		got[e.Type]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events after version %d: %v, want %v", from, got, want)
	}
}

// testConcurrentPayments has fifty workers pay a part of one invoice at
// once, none with a condition: a change the rules allow is applied whatever
// the contention, so every payment lands, one version each.
func testConcurrentPayments(t *testing.T, s Subject) {
	tenant := s.NewTenant(t)
	open := openInvoice(t, s, tenant)
	const workers, part = 50, 20
	for w, err := range concurrently(workers, func(w int) error {
		_, err := update(s, tenant, open.ID(), pay(part, fmt.Sprintf("part-%d", w)))
		return err
	}) {
		if err != nil {
			t.Errorf("payment %d: %v", w, err)
		}
	}
	got := get(t, s, tenant, open.ID())
	if got.AmountPaid().Amount() != workers*part || len(got.Payments()) != workers || got.Version() != open.Version()+workers {
		t.Fatalf("paid %d in %d payments at version %d; want %d in %d at %d", got.AmountPaid().Amount(), len(got.Payments()),
			got.Version(), workers*part, workers, open.Version()+workers)
	}
	assertEventsFollow(t, s, open.ID(), open.Version(), map[string]int{invoice.TypePaymentRecorded: workers})
}

// testConcurrentMix is testConcurrentPayments with every other worker
// editing the invoice's metadata instead of paying.
func testConcurrentMix(t *testing.T, s Subject) {
	tenant := s.NewTenant(t)
	open := openInvoice(t, s, tenant)
	const workers, part = 50, 20
	for w, err := range concurrently(workers, func(w int) error {
		if w%2 == 0 {
			_, err := update(s, tenant, open.ID(), pay(part, fmt.Sprintf("part-%d", w)))
			return err
		}
		_, err := update(s, tenant, open.ID(), answering(func(_ context.Context, inv *invoice.Invoice, _ app.Tx) error {
			time.Sleep(time.Millisecond) // as pay's
			return inv.Edit(invoice.Changes{Metadata: map[string]string{fmt.Sprintf("k%d", w): "v"}}, Now)
		}))
		return err
	}) {
		if err != nil {
			t.Errorf("worker %d: %v", w, err)
		}
	}
	got := get(t, s, tenant, open.ID())
	if got.AmountPaid().Amount() != workers/2*part || len(got.Payments()) != workers/2 || len(got.Metadata()) != workers/2 ||
		got.Version() != open.Version()+workers {
		t.Fatalf("paid %d in %d payments, %d metadata keys, at version %d; want %d in %d, %d, at %d", got.AmountPaid().Amount(),
			len(got.Payments()), len(got.Metadata()), got.Version(), workers/2*part, workers/2, workers/2, open.Version()+workers)
	}
	assertEventsFollow(t, s, open.ID(), open.Version(), map[string]int{invoice.TypePaymentRecorded: workers / 2, invoice.TypeUpdated: workers / 2})
}

func testGapless(t *testing.T, s Subject) {
	tenant := s.NewTenant(t)
	const n = 10
	drafts := make([]*invoice.Invoice, n)
	for i := range drafts {
		drafts[i] = add(t, s, tenant)
	}
	numbers := make([]string, n)
	var wg sync.WaitGroup
	for i, d := range drafts {
		wg.Go(func() {
			changed, err := update(s, tenant, d.ID(), issue)
			if err != nil {
				t.Errorf("issue %d: %v", i, err)
				return
			}
			numbers[i] = changed.Invoice.Number()
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, num := range numbers {
		seen[num] = true
	}
	for k := 1; k <= n; k++ {
		if !seen[invoice.FormatNumber(Now.Year(), int64(k))] {
			t.Fatalf("numbers %q: %s missing", numbers, invoice.FormatNumber(Now.Year(), int64(k)))
		}
	}
}

// request returns an idempotent request.
func request(key, fingerprint string) *app.IdempotentRequest {
	return &app.IdempotentRequest{Key: key, Fingerprint: []byte(fingerprint)}
}

// sameResult reports whether got is want, view bytes included.
func sameResult(got, want app.Result) bool {
	return got.Resource == want.Resource && got.ID == want.ID && got.Version == want.Version && string(got.View) == string(want.View)
}

func testIdempotency(t *testing.T, s Subject) {
	ctx := context.Background()
	tenant := s.NewTenant(t)
	inv := add(t, s, tenant)
	with := func(key *app.IdempotentRequest) app.ChangeOptions { return app.ChangeOptions{Idempotency: key} }

	// A failed change stores no result.
	_, err := s.Invoices.Update(ctx, tenant, inv.ID(), with(request("k", "add")), answering(func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) error {
		if _, err := addLine(ctx, inv, tx); err != nil {
			return err
		}
		return errInjected
	}))
	if !errors.Is(err, errInjected) {
		t.Fatalf("Update: %v", err)
	}
	// Nor does a change under a key that comes without its result: it is
	// refused whole.
	_, err = s.Invoices.Update(ctx, tenant, inv.ID(), with(request("k", "add")), func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) (app.Result, error) {
		_, err := addLine(ctx, inv, tx)
		return app.Result{}, err
	})
	if !errors.Is(err, app.ErrNoResult) {
		t.Fatalf("an idempotent change without a result: %v, want ErrNoResult", err)
	}
	if got := get(t, s, tenant, inv.ID()); got.Version() != 1 {
		t.Fatalf("version %d after a change without a result, want 1: it was applied", got.Version())
	}
	changed, err := s.Invoices.Update(ctx, tenant, inv.ID(), with(request("k", "add")), addLine)
	want := answer(changed.Invoice)
	if err != nil || want.Version != 2 || !sameResult(changed.Result, want) {
		t.Fatalf("the change after failed ones: %v, result %+v; want %+v at version 2", err, changed.Result, want)
	}

	calls := 0
	_, err = s.Invoices.Update(ctx, tenant, inv.ID(), with(request("k", "add")), func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) (app.Result, error) {
		calls++
		return addLine(ctx, inv, tx)
	})
	var replayed *app.Replayed
	if !errors.As(err, &replayed) || !sameResult(replayed.Result, want) || replayed.Legacy != nil || calls != 0 {
		t.Fatalf("the same request again: %v (function ran %d times), want the stored result replayed", err, calls)
	}
	if _, err := s.Invoices.Update(ctx, tenant, inv.ID(), with(request("k", "another")), addLine); !errors.Is(err, app.ErrIdempotencyKeyReused) {
		t.Fatalf("another request with the key: %v, want ErrIdempotencyKeyReused", err)
	}
	if got := get(t, s, tenant, inv.ID()); got.Version() != 2 {
		t.Fatalf("version %d after a replay, want 2", got.Version())
	}
}

func testIdempotentAdd(t *testing.T, s Subject) {
	ctx := context.Background()
	tenant := s.NewTenant(t)
	opts := app.ChangeOptions{Idempotency: request("create", "create")}
	if _, err := s.Invoices.Add(ctx, newDraft(t, tenant), opts, app.Result{}); !errors.Is(err, app.ErrNoResult) {
		t.Fatalf("Add under a key without a result: %v, want ErrNoResult", err)
	}
	draft := newDraft(t, tenant)
	want := answer(draft)
	changed, err := s.Invoices.Add(ctx, draft, opts, want)
	if err != nil || !sameResult(changed.Result, want) {
		t.Fatalf("Add: %v, result %+v; want %+v", err, changed.Result, want)
	}
	var replayed *app.Replayed
	again := newDraft(t, tenant)
	if _, err := s.Invoices.Add(ctx, again, opts, answer(again)); !errors.As(err, &replayed) || !sameResult(replayed.Result, want) {
		t.Fatalf("the same request again: %v, want the first result replayed", err)
	}
	page, err := s.InvoiceList.List(ctx, tenant, app.ListFilter{Limit: 10})
	if err != nil || len(page.Invoices) != 1 {
		t.Fatalf("List: %v, %d invoices; want the first only", err, len(page.Invoices))
	}
}

func testTenantIsolation(t *testing.T, s Subject) {
	ctx := context.Background()
	a, b := s.NewTenant(t), s.NewTenant(t)
	invA := add(t, s, a)
	if _, err := s.InvoiceReader.Get(ctx, b, invA.ID()); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("Get of another tenant's invoice: %v, want ErrNotFound", err)
	}
	if _, err := update(s, b, invA.ID(), addLine); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("Update of another tenant's invoice: %v, want ErrNotFound", err)
	}
	if _, err := s.LineList.Lines(ctx, b, invA.ID(), app.LineFilter{Limit: 10}); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("Lines of another tenant's invoice: %v, want ErrNotFound", err)
	}
	if page, err := s.InvoiceList.List(ctx, b, app.ListFilter{Limit: 10}); err != nil || len(page.Invoices) != 0 {
		t.Fatalf("List of tenant B: %v, %d invoices; want none", err, len(page.Invoices))
	}
	// An idempotency key is the tenant's own.
	invB := add(t, s, b)
	for _, x := range []struct {
		tenant kernel.TenantID
		inv    *invoice.Invoice
	}{{a, invA}, {b, invB}} {
		changed, err := s.Invoices.Update(ctx, x.tenant, x.inv.ID(), app.ChangeOptions{Idempotency: request("shared", "same")}, addLine)
		if err != nil || changed.Result.IsZero() {
			t.Fatalf("tenant %s with the shared key: %v, want a change of its own", x.tenant, err)
		}
	}
	if got := get(t, s, a, invA.ID()); got.Version() != 2 {
		t.Fatalf("tenant A's invoice at version %d, want 2", got.Version())
	}
}
