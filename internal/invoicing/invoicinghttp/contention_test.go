package invoicinghttp_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// concurrently sends the n requests send makes at once and returns their
// answers.
func concurrently(t *testing.T, n int, send func(i int) (response, error)) []response {
	t.Helper()
	out := make([]response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := send(i)
			if err != nil {
				t.Error(err)
			}
			out[i] = res
		})
	}
	close(start)
	wg.Wait()
	return out
}

// Fifty partial payments of one invoice at once, without If-Match: every
// one is applied (200), none refused for the contention.
func TestConcurrentPaymentsWithoutIfMatch200(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	const n, part = 50, 100
	for i, res := range concurrently(t, n, func(i int) (response, error) {
		return c.try("POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": part, "reference": fmt.Sprintf("part-%d", i)})
	}) {
		if res.status != http.StatusOK {
			t.Errorf("payment %d: %d %s", i, res.status, res.body)
		}
	}
	got := c.get(t, c.keyA, inv.ID)
	if got.AmountPaid != n*part || len(got.Payments) != n || got.Version != inv.Version+n {
		t.Fatalf("paid %d in %d payments at version %d, want %d in %d at %d", got.AmountPaid, len(got.Payments), got.Version,
			n*part, n, inv.Version+n)
	}
}

// Payments, credit notes and metadata PATCHes of one invoice at once,
// without If-Match: all are applied, one version each.
func TestConcurrentMixedChangesWithoutIfMatch2xx(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	const each, part = 15, 100
	path := "/v1/invoices/" + inv.ID
	for i, res := range concurrently(t, 3*each, func(i int) (response, error) {
		switch i % 3 {
		case 0:
			return c.try("POST", path+"/payments", c.keyA, map[string]any{"amount": part, "reference": fmt.Sprintf("part-%d", i)})
		case 1:
			return c.try("POST", path+"/credit_notes", c.keyA, map[string]any{"amount": part, "reason": "duplicate"})
		default:
			return c.try("PATCH", path, c.keyA, map[string]any{"metadata": map[string]string{fmt.Sprintf("k%d", i): "v"}})
		}
	}) {
		if res.status != http.StatusOK && res.status != http.StatusCreated {
			t.Errorf("request %d: %d %s", i, res.status, res.body)
		}
	}
	got := c.get(t, c.keyA, inv.ID)
	if got.AmountPaid != each*part || got.AmountCredited != each*part || len(got.Metadata) != each || got.Version != inv.Version+3*each {
		t.Fatalf("paid %d, credited %d, %d metadata keys, version %d; want %d, %d, %d, %d", got.AmountPaid, got.AmountCredited,
			len(got.Metadata), got.Version, each*part, each*part, each, inv.Version+3*each)
	}
}

// Payments that all name the same version in If-Match, at once: one is
// applied, every other is a 412 version_mismatch, as before any waiting.
func TestConcurrentPaymentsWithIfMatch412(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	const n = 10
	etag := `"v` + strconv.FormatInt(inv.Version, 10) + `"`
	applied := 0
	for i, res := range concurrently(t, n, func(i int) (response, error) {
		return c.try("POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": 100, "reference": fmt.Sprintf("part-%d", i)},
			"If-Match", etag)
	}) {
		switch {
		case res.status == http.StatusOK:
			applied++
		case res.status == http.StatusPreconditionFailed:
			wantProblem(t, res, http.StatusPreconditionFailed, "version_mismatch", "If-Match")
		default:
			t.Errorf("payment %d: %d %s", i, res.status, res.body)
		}
	}
	if got := c.get(t, c.keyA, inv.ID); applied != 1 || len(got.Payments) != 1 {
		t.Fatalf("%d applied, %d payments; want one of each", applied, len(got.Payments))
	}
}

// A change that waits for the invoice longer than the lock timeout is a
// 503 invoice_busy with Retry-After, changes nothing, and goes through once
// the invoice is free.
func TestChangeWaitingPastTheLockTimeout503(t *testing.T) {
	t.Parallel()
	needsPostgres(t)
	pool := pgtest.New(t)
	c := serve(t, app.New(invoicingpg.NewInvoices(pool, invoicingpg.WithLockTimeout(100*time.Millisecond)), invoicingpg.NewAPIKeys(pool),
		invoicingpg.NewEvents(pool), app.SystemClock{}).WithCreditNotes(invoicingpg.NewCreditNotes(pool)))
	inv := c.newOpen(t, c.keyA)
	ctx := context.Background()
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback(ctx) }()
	if _, err := holder.Exec(ctx, `SELECT FROM invoices WHERE id = $1 FOR UPDATE`, inv.ID); err != nil {
		t.Fatal(err)
	}
	path := "/v1/invoices/" + inv.ID + "/payments"
	res := c.do(t, "POST", path, c.keyA, map[string]any{"amount": 100, "reference": "busy"})
	wantProblem(t, res, http.StatusServiceUnavailable, "invoice_busy", "")
	if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q, want a number of seconds", res.header.Get("Retry-After"))
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	c.wantUnchanged(t, c.keyA, inv)
	wantInvoice(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 100, "reference": "busy"}), http.StatusOK)
}
