package invoicinghttp_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// newProxiedAPI serves the API on a fresh database that it reaches through
// a pgtest.Proxy, and returns the client, the proxy and the database's own
// URL (not through the proxy). It skips or fails as needsPostgres. Tenant
// A's key is remembered after its first use, so its requests reach the
// repositories whatever the proxy does; tenant B's is looked up in the
// database on every request.
func newProxiedAPI(t *testing.T) (*api, *pgtest.Proxy, string) {
	t.Helper()
	needsPostgres(t)
	dbURL := pgtest.NewURL(t)
	proxy := pgtest.NewProxy(t, dbURL)
	pool := connect(t, proxy.URL(dbURL))
	keys := app.NewCachedAPIKeys(invoicingpg.NewAPIKeys(pool), time.Hour, app.SystemClock{})
	return serve(t, app.New(invoicingpg.NewInvoices(pool), keys, invoicingpg.NewEvents(pool), app.SystemClock{})), proxy, dbURL
}

// TestDatabaseOutageAnswers503 takes the database away behind a TCP proxy:
// every request that needs it, reads, writes and API key look-ups alike, is a
// documented 503 service_unavailable problem with Retry-After, not a 500; once
// the database is back, requests succeed again.
func TestDatabaseOutageAnswers503(t *testing.T) {
	t.Parallel()
	c, proxy, _ := newProxiedAPI(t)
	draft := c.newDraft(t, c.keyA)

	proxy.Down()
	create := map[string]any{
		"customer": map[string]string{"name": "ACME GmbH", "email": "billing@acme.example"},
		"currency": "EUR",
		"lines":    []map[string]any{{"description": "Consulting", "quantity": 1, "unit_amount": 1000, "tax_rate_bps": 0}},
	}
	for _, req := range []struct {
		method, path, key string
		body              any
	}{
		{"GET", "/v1/invoices/" + draft.ID, c.keyA, nil},
		{"GET", "/v1/invoices", c.keyA, nil},
		{"POST", "/v1/invoices", c.keyA, create},
		{"POST", "/v1/invoices/" + draft.ID + "/issue", c.keyA, nil},
		{"GET", "/v1/invoices/" + draft.ID + "/lines", c.keyA, nil},
		{"GET", "/v1/invoices/" + draft.ID + "/events", c.keyA, nil},
		{"GET", "/v1/events", c.keyA, nil},
		{"GET", "/v1/invoices/" + draft.ID, c.keyB, nil}, // the key look-up fails
	} {
		res := c.do(t, req.method, req.path, req.key, req.body)
		if res.status != http.StatusServiceUnavailable {
			t.Errorf("%s %s during the outage: status %d, want 503; body: %s", req.method, req.path, res.status, res.body)
			continue
		}
		wantProblem(t, res, http.StatusServiceUnavailable, "service_unavailable", "")
		if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 {
			t.Errorf("%s %s: Retry-After %q, want a number of seconds", req.method, req.path, res.header.Get("Retry-After"))
		}
	}

	proxy.Up()
	// The pool may hand out one more connection that broke with the outage
	// before it notices: the client retries on 503, as told.
	for attempt := 1; ; attempt++ {
		res := c.do(t, "GET", "/v1/invoices", c.keyB, nil)
		if res.status == http.StatusOK {
			break
		}
		if res.status != http.StatusServiceUnavailable || attempt == 10 {
			t.Fatalf("after the outage, attempt %d: status %d; body: %s", attempt, res.status, res.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.newOpen(t, c.keyA)
}
