package invoicingpg_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// feedReader follows a tenant's feed as a subscriber would.
type feedReader struct {
	events *invoicingpg.Events
	tenant kernel.TenantID
	after  int64
	seen   []outbox.EventRecord
}

// read reads one page and moves the cursor on.
func (r *feedReader) read(t *testing.T) []outbox.EventRecord {
	t.Helper()
	page, err := r.events.Feed(context.Background(), r.tenant, app.FeedFilter{After: r.after, Limit: 5})
	if err != nil {
		t.Fatalf("feed after %d: %v", r.after, err)
	}
	r.after = page.NextAfter
	r.seen = append(r.seen, page.Events...)
	return page.Events
}

// readUntil reads until it has seen n events in all. The feed holds back
// while any older transaction on the server runs (other tests' too), so it
// polls, up to a deadline.
func (r *feedReader) readUntil(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(r.seen) < n {
		if len(r.read(t)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("feed stalled at %d events of %d", len(r.seen), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// insertEvent inserts an outbox row for tenant in tx, as a repository would,
// and returns its sequence.
func insertEvent(t *testing.T, tx pgx.Tx, tenant kernel.TenantID) int64 {
	t.Helper()
	var seq int64
	err := tx.QueryRow(context.Background(), `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
VALUES ($1, $2, $3, 1, 'invoice.voided', '{"reason":"test"}', now()) RETURNING sequence`,
		uuid.Must(uuid.NewV7()), [16]byte(tenant), uuid.Must(uuid.NewV7())).Scan(&seq)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func begin(t *testing.T, e *env) pgx.Tx {
	t.Helper()
	tx, err := e.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

func commit(t *testing.T, tx pgx.Tx) {
	t.Helper()
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func sequences(recs []outbox.EventRecord) []int64 {
	var out []int64
	for _, r := range recs {
		out = append(out, r.Sequence)
	}
	return out
}

// Transaction A takes the lower sequence, B the higher and commits first.
// While A is open the feed does not serve B (its cursor would pass A's
// sequence); once A commits, reading on from the returned cursor delivers A.
func TestFeedDeliversALateCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := &feedReader{events: invoicingpg.NewEvents(e.pool), tenant: e.tenant}

	a := begin(t, e)
	seqA := insertEvent(t, a, e.tenant)
	b := begin(t, e)
	seqB := insertEvent(t, b, e.tenant)
	commit(t, b)
	if seqA >= seqB {
		t.Fatalf("sequences A %d, B %d: want A lower", seqA, seqB)
	}
	for range 3 {
		if got := r.read(t); len(got) != 0 {
			t.Fatalf("feed served %v while A (sequence %d) is in flight", sequences(got), seqA)
		}
	}
	commit(t, a)
	r.readUntil(t, 2)
	if got := sequences(r.seen); fmt.Sprint(got) != fmt.Sprint([]int64{seqA, seqB}) {
		t.Fatalf("feed served %v, want [%d %d]", got, seqA, seqB)
	}
}

// The trap a plain "sequence > cursor" misses even with the xmin filter: C
// gets its transaction id first but takes its sequence after T, which is
// still running when C commits. C is served; T, committing later with the
// lower sequence, must still be delivered after the cursor moved past C.
func TestFeedDeliversTheLowerSequenceOfAYoungerTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := &feedReader{events: invoicingpg.NewEvents(e.pool), tenant: e.tenant}

	c := begin(t, e)
	if _, err := c.Exec(context.Background(), `SELECT pg_current_xact_id()`); err != nil { // C's xid, before T's
		t.Fatal(err)
	}
	tt := begin(t, e)
	seqT := insertEvent(t, tt, e.tenant)
	seqC := insertEvent(t, c, e.tenant)
	commit(t, c)
	r.readUntil(t, 1)
	if r.seen[0].Sequence != seqC || r.after != seqC {
		t.Fatalf("served %v with cursor %d, want C's %d", sequences(r.seen), r.after, seqC)
	}
	commit(t, tt)
	r.readUntil(t, 2)
	if r.seen[1].Sequence != seqT || seqT > seqC {
		t.Fatalf("served %v, want C's %d then T's lower %d", sequences(r.seen), seqC, seqT)
	}
}

// Sixteen writers change invoices while a reader follows the feed: the reader
// ends with every committed event exactly once, each invoice's in version order.
func TestFeedUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.newTenant(t, "globex")
	r := &feedReader{events: invoicingpg.NewEvents(e.pool), tenant: e.tenant}

	const writers, rounds = 16, 6
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				tenant := e.tenant
				if i == 0 && w%4 == 0 {
					tenant = other // noise the reader must not see
				}
				if err := e.workload(tenant, fmt.Sprintf("w%d-%d", w, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			r.read(t)
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r.readUntil(t, e.count(t, `SELECT count(*) FROM outbox WHERE tenant_id = $1`, e.tenant.String()))

	seen := map[kernel.EventID]bool{}
	versions := map[uuid.UUID]int64{}
	for _, rec := range r.seen {
		if seen[rec.ID] || rec.Tenant != e.tenant {
			t.Fatalf("event %s seen twice or of another tenant", uuid.UUID(rec.ID))
		}
		seen[rec.ID] = true
		if rec.Version != versions[rec.AggregateID]+1 {
			t.Fatalf("invoice %s: version %d after %d", rec.AggregateID, rec.Version, versions[rec.AggregateID])
		}
		versions[rec.AggregateID] = rec.Version
	}
	if extra := r.read(t); len(extra) != 0 {
		t.Fatalf("feed served %d more events than committed", len(extra))
	}
}

// workload creates, issues and pays an invoice of tenant: four events.
func (e *env) workload(tenant kernel.TenantID, ref string) error {
	ctx := context.Background()
	created, err := e.app.CreateInvoice.Handle(ctx, app.CreateInvoice{
		Tenant: tenant, Customer: invoice.Customer{Name: "Ada", Email: "ada@example.com"}, Currency: "EUR",
		Lines: []invoice.LineInput{{Description: "Work", Quantity: 1, UnitAmount: 100}},
	})
	if err != nil {
		return err
	}
	inv := created.Invoice
	if _, err := e.app.IssueInvoice.Handle(ctx, app.IssueInvoice{Tenant: tenant, InvoiceID: inv.ID()}); err != nil {
		return err
	}
	_, err = e.app.PayInvoice.Handle(ctx, app.PayInvoice{Tenant: tenant, InvoiceID: inv.ID(), Amount: 100, Reference: ref})
	return err
}

// A page stops before the event that would pass MaxBytes, always holding
// one: read page by page, the feed and a history give every event once, in
// the order of an unbounded read.
func TestFeedAndHistoryStopAtMaxBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpenFrom(t, e.create(t, e.tenant))
	e.create(t, e.tenant)
	events := invoicingpg.NewEvents(e.pool)
	ctx := context.Background()

	all := feedReader{events: events, tenant: e.tenant}
	all.readUntil(t, 3)
	size := func(recs []outbox.EventRecord) (n int) {
		for _, r := range recs {
			n += len(r.Payload)
		}
		return n
	}
	// Event sizes differ by a byte or two (timestamps drop trailing zeros),
	// so "one per page" needs less than the smallest two neighbours.
	smallestPair := size(all.seen[:2])
	for i := 1; i+2 <= len(all.seen); i++ {
		smallestPair = min(smallestPair, size(all.seen[i:i+2]))
	}
	for _, tc := range []struct {
		maxBytes, perPage int
	}{{1, 1}, {size(all.seen[:2]), 2}, {smallestPair - 1, 1}} {
		var got []outbox.EventRecord
		after := int64(0)
		for len(got) < len(all.seen) {
			page, err := events.Feed(ctx, e.tenant, app.FeedFilter{After: after, Limit: app.MaxFeedLimit, MaxBytes: tc.maxBytes})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != min(tc.perPage, len(all.seen)-len(got)) {
				t.Fatalf("MaxBytes %d: a page of %d events, want %d", tc.maxBytes, len(page.Events), tc.perPage)
			}
			got = append(got, page.Events...)
			after = page.NextAfter
		}
		if fmt.Sprint(sequences(got)) != fmt.Sprint(sequences(all.seen)) {
			t.Errorf("MaxBytes %d: read %v, want %v", tc.maxBytes, sequences(got), sequences(all.seen))
		}
	}

	var versions []int64
	for page, after := (app.HistoryPage{HasMore: true}), int64(0); page.HasMore; {
		var err error
		if page, err = events.History(ctx, e.tenant, inv.ID(), app.HistoryFilter{After: after, MaxBytes: 1}); err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 1 {
			t.Fatalf("history after %d: %d events, want 1", after, len(page.Events))
		}
		after = page.Events[0].Version
		versions = append(versions, after)
	}
	if fmt.Sprint(versions) != "[1 2]" {
		t.Errorf("history read one at a time: versions %v, want [1 2]", versions)
	}
	if _, err := events.History(ctx, e.newTenant(t, "globex"), inv.ID(), app.HistoryFilter{}); !errors.Is(err, invoice.ErrNotFound) {
		t.Errorf("history of another tenant's invoice: %v, want ErrNotFound", err)
	}
}
