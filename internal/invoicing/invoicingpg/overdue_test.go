package invoicingpg_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// overdueFixture stores, for two tenants, n open invoices due yesterday
// (by the clock of the job, today) and, beside them, invoices that are not
// overdue: due today, paid, a draft, without due date. It returns the ids of
// the n and the job's clock.
func overdueFixture(t *testing.T, e *env, n int) (map[invoice.ID]bool, app.Clock) {
	t.Helper()
	ctx := context.Background()
	today := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	clock := fixedClock{today.Add(9 * time.Hour)} // 09:00 UTC
	other := e.newTenant(t, "globex")
	open := func(tenant kernel.TenantID, due time.Time, issue bool) invoice.ID {
		var dueDate *string
		if !due.IsZero() {
			s := due.Format(time.DateOnly)
			dueDate = &s
		}
		inv := e.create(t, tenant)
		if _, err := e.app.UpdateInvoice.Handle(ctx, app.UpdateInvoice{Tenant: tenant, InvoiceID: inv.ID(), DueDate: dueDate, Metadata: map[string]string{"n": "1"}}); err != nil {
			t.Fatal(err)
		}
		if issue {
			if _, err := e.app.IssueInvoice.Handle(ctx, app.IssueInvoice{Tenant: tenant, InvoiceID: inv.ID()}); err != nil {
				t.Fatal(err)
			}
		}
		return inv.ID()
	}
	want := map[invoice.ID]bool{}
	for i := range n {
		want[open([]kernel.TenantID{e.tenant, other}[i%2], today.AddDate(0, 0, -1), true)] = true
	}
	written := open(e.tenant, today.AddDate(0, 0, -3), true) // uncollectible is overdue too
	if _, err := e.app.MarkUncollectible.Handle(ctx, app.MarkUncollectible{Tenant: e.tenant, InvoiceID: written}); err != nil {
		t.Fatal(err)
	}
	want[written] = true
	open(e.tenant, today, true)                        // due today: overdue tomorrow
	open(e.tenant, time.Time{}, true)                  // no due date
	open(e.tenant, today.AddDate(0, 0, -1), false)     // a draft
	paid := open(other, today.AddDate(0, 0, -1), true) // paid
	if _, err := e.pay(other, paid, 1200, "p"); err != nil {
		t.Fatal(err)
	}
	return want, clock
}

// checkOverdueOnce fails unless exactly the invoices of want recorded one
// invoice.overdue event each, and read back overdue.
func checkOverdueOnce(t *testing.T, e *env, want map[invoice.ID]bool) {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT aggregate_id, count(*) FROM outbox WHERE event_type = 'invoice.overdue' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[invoice.ID]int{}
	for rows.Next() {
		var id [16]byte
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		got[invoice.ID(id)] = n
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for id, n := range got {
		if !want[id] || n != 1 {
			t.Errorf("invoice %s recorded %d overdue events; want %d", id, n, map[bool]int{true: 1}[want[id]])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d invoices recorded overdue, want %d", len(got), len(want))
	}
	var overdue int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM invoices WHERE overdue_at IS NOT NULL`).Scan(&overdue); err != nil || overdue != len(want) {
		t.Errorf("%d invoices with overdue_at (%v), want %d", overdue, err, len(want))
	}
}

func TestOverdueJobRecordsOneEventPerInvoiceHoweverOftenItRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want, clock := overdueFixture(t, e, 25)
	job := app.NewRecordOverdueHandler(e.repo, e.repo, clock)
	for run := range 3 {
		res, err := job.Handle(context.Background(), app.RecordOverdue{BatchSize: 7})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		wantRecorded := map[bool]int{true: len(want)}[run == 0]
		if res.Recorded != wantRecorded || res.Failed != 0 {
			t.Errorf("run %d: %+v, want %d recorded", run, res, wantRecorded)
		}
	}
	checkOverdueOnce(t, e, want)
	for id := range want {
		inv, err := e.repo.Get(context.Background(), e.tenant, id)
		if errors.Is(err, invoice.ErrNotFound) {
			continue // the other tenant's
		}
		if err != nil || !inv.Overdue() || inv.OverdueAt().IsZero() || inv.Metadata()["n"] != "1" {
			t.Errorf("invoice %s: %v, overdue %v at %v", id, err, inv.Overdue(), inv.OverdueAt())
		}
	}
}

func TestOverdueJobsRacingRecordOneEventPerInvoice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want, clock := overdueFixture(t, e, 30)
	// Two jobs without the lock, as two processes whose lock failed us: the
	// invoices' optimistic concurrency alone keeps the events single.
	job := app.NewRecordOverdueHandler(e.repo, e.repo, clock)
	var wg sync.WaitGroup
	results := make([]app.OverdueResult, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := job.Handle(context.Background(), app.RecordOverdue{BatchSize: 4})
			if err != nil {
				t.Errorf("job %d: %v", i, err)
			}
			results[i] = res
		}()
	}
	wg.Wait()
	recorded := 0
	for _, r := range results {
		recorded += r.Recorded
	}
	if recorded != len(want) {
		t.Errorf("jobs recorded %d in all (%+v), want %d", recorded, results, len(want))
	}
	checkOverdueOnce(t, e, want)
}

func TestOverdueJobRunsAloneUnderItsLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want, clock := overdueFixture(t, e, 10)
	jobs := invoicingpg.NewJobs(e.pool)
	job := app.NewRecordOverdueHandler(e.repo, e.repo, clock)
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		ran, err := jobs.RunAlone(context.Background(), "overdue", func(ctx context.Context) error {
			close(inside)
			<-release
			_, err := job.Handle(ctx, app.RecordOverdue{})
			return err
		})
		if !ran {
			err = errors.Join(err, errors.New("the first job did not run"))
		}
		done <- err
	}()
	<-inside
	ran, err := jobs.RunAlone(context.Background(), "overdue", func(context.Context) error {
		t.Error("a second job ran while the first held the lock")
		return nil
	})
	if ran || err != nil {
		t.Errorf("second RunAlone: ran %v, %v; want false, nil", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Released: the next run takes the lock, and records nothing more.
	if ran, err := jobs.RunAlone(context.Background(), "overdue", func(ctx context.Context) error {
		_, err := job.Handle(ctx, app.RecordOverdue{})
		return err
	}); !ran || err != nil {
		t.Fatalf("third RunAlone: ran %v, %v", ran, err)
	}
	checkOverdueOnce(t, e, want)
}

// crashAfter is candidates that fail (as a process dying would stop the
// run) once they have handed out batches batches.
type crashAfter struct {
	app.OverdueCandidates
	batches int
}

var errCrash = errors.New("crash")

func (c *crashAfter) DueInvoices(ctx context.Context, asOf time.Time, after *invoice.ID, limit int) ([]app.InvoiceKey, error) {
	if c.batches == 0 {
		return nil, errCrash
	}
	c.batches--
	return c.OverdueCandidates.DueInvoices(ctx, asOf, after, limit)
}

func TestOverdueJobRerunAfterACrashRecordsNothingTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want, clock := overdueFixture(t, e, 20)
	crashed := app.NewRecordOverdueHandler(e.repo, &crashAfter{OverdueCandidates: e.repo, batches: 2}, clock)
	res, err := crashed.Handle(context.Background(), app.RecordOverdue{BatchSize: 6})
	if !errors.Is(err, errCrash) || res.Recorded != 12 {
		t.Fatalf("crashed run: %+v, %v; want 12 recorded and the crash", res, err)
	}
	res, err = app.NewRecordOverdueHandler(e.repo, e.repo, clock).Handle(context.Background(), app.RecordOverdue{BatchSize: 6})
	if err != nil || res.Recorded != len(want)-12 || res.Checked != len(want)-12 {
		t.Fatalf("rerun: %+v, %v; want the %d left", res, err, len(want)-12)
	}
	checkOverdueOnce(t, e, want)
}
