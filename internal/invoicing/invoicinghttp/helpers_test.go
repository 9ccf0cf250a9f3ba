package invoicinghttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/apitest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/app/apptest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// emptyList is the body of an empty page of invoices.
const emptyList = "{\"data\":[],\"has_more\":false}\n"

// api is the real handler on the app's repositories, with an API key for
// each of two tenants: in memory under -short, else over a fresh database.
// Its client checks every request and response against api/openapi.yaml
// (see apitest.Transport).
type api struct {
	url        string
	keyA, keyB string
	logs       *syncBuffer
	pool       *pgxpool.Pool     // nil unless newPostgresAPI made the database
	mem        *apptest.Invoices // nil unless newMemoryAPI made the repository
	memKeys    *apptest.APIKeys  // its API keys
	client     *http.Client
	loose      *http.Client // for invalid(): checks responses only
}

// newAPI serves NewHandler over the in-memory repositories of apptest under
// -short, which keep the PostgreSQL ones' contract, and over a fresh
// migrated database otherwise, so the full run checks the HTTP layer on
// what production runs.
func newAPI(t *testing.T) *api {
	t.Helper()
	if testing.Short() {
		return newMemoryAPI(t)
	}
	return newPostgresAPI(t)
}

// newMemoryAPI serves NewHandler over apptest's in-memory repositories.
func newMemoryAPI(t *testing.T) *api {
	t.Helper()
	a, m, keys := newMemoryApp()
	c := serve(t, a)
	c.mem, c.memKeys = m, keys
	return c
}

// newApp returns the app on the repositories newAPI would use.
func newApp(t *testing.T) *app.App {
	t.Helper()
	if testing.Short() {
		a, _, _ := newMemoryApp()
		return a
	}
	pool := pgtest.New(t)
	return app.New(invoicingpg.NewInvoices(pool), invoicingpg.NewAPIKeys(pool), invoicingpg.NewEvents(pool), app.SystemClock{}).
		WithCreditNotes(invoicingpg.NewCreditNotes(pool))
}

// newMemoryApp returns the app on apptest's in-memory repositories, and
// its repositories of invoices and of API keys.
func newMemoryApp() (*app.App, *apptest.Invoices, *apptest.APIKeys) {
	m, keys := apptest.NewInvoices(), apptest.NewAPIKeys()
	return app.New(m, keys, apptest.NewEvents(m), app.SystemClock{}).
		WithCreditNotes(apptest.NewCreditNotes(m)), m, keys
}

// needsPostgres skips the test under -short: it checks what only
// PostgreSQL does (SQL-level state, real locks and their timeouts, an
// outage), and the short run reaches no server.
func needsPostgres(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL: runs without -short")
	}
}

// newPostgresAPI serves NewHandler over a fresh migrated database, whose
// pool the test may query. It skips under -short (see needsPostgres).
func newPostgresAPI(t *testing.T) *api {
	t.Helper()
	needsPostgres(t)
	pool := pgtest.New(t)
	c := serve(t, app.New(invoicingpg.NewInvoices(pool), invoicingpg.NewAPIKeys(pool), invoicingpg.NewEvents(pool), app.SystemClock{}).
		WithCreditNotes(invoicingpg.NewCreditNotes(pool)))
	c.pool = pool
	return c
}

// serve creates the two tenants' keys through the use case and serves a.
func serve(t *testing.T, a *app.App) *api {
	t.Helper()
	return serveWith(t, a, invoicinghttp.Config{})
}

// serveWith is serve with cfg (its Logger is set here).
func serveWith(t *testing.T, a *app.App, cfg invoicinghttp.Config) *api {
	t.Helper()
	ctx := context.Background()
	keyA, _, err := a.CreateAPIKey.Handle(ctx, app.CreateAPIKey{TenantName: "Tenant A"})
	if err != nil {
		t.Fatalf("create key A: %v", err)
	}
	keyB, _, err := a.CreateAPIKey.Handle(ctx, app.CreateAPIKey{TenantName: "Tenant B"})
	if err != nil {
		t.Fatalf("create key B: %v", err)
	}
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	h := invoicinghttp.NewHandler(a, cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &api{url: srv.URL, keyA: keyA, keyB: keyB, logs: logs}
	c.withClients(t)
	return c
}

// withClients gives c its contract-checking clients.
func (c *api) withClients(t *testing.T) {
	t.Helper()
	contract, err := apitest.LoadContract()
	if err != nil {
		t.Fatal(err)
	}
	c.client, c.loose = contract.Client(false), contract.Client(true)
}

// invalid returns c for a request that breaks the contract on purpose (an
// unknown field, a wrong type or media type, an unknown route or method):
// only the response is checked, and it must be a documented problem.
func (c *api) invalid() *api {
	cp := *c
	cp.client = c.loose
	return &cp
}

// db returns the API's database, failing the test if it runs in memory:
// a test that reads or edits the database serves with newPostgresAPI.
func (c *api) db(t *testing.T) *pgxpool.Pool {
	t.Helper()
	if c.pool == nil {
		t.Fatal("the API runs in memory: serve it with newPostgresAPI to query its database")
	}
	return c.pool
}

// invoices returns the API's repository of invoices.
func (c *api) invoices(t *testing.T) interface {
	app.Invoices
	app.OverdueCandidates
} {
	t.Helper()
	if c.mem != nil {
		return c.mem
	}
	return invoicingpg.NewInvoices(c.db(t))
}

// rows returns how many rows table holds: "invoices", "invoice_lines",
// "payments", "outbox", "idempotency_keys" or "credit_notes" (in memory,
// what the repository holds in their stead).
func (c *api) rows(t *testing.T, table string) int {
	t.Helper()
	if c.mem == nil {
		return c.count(t, "SELECT count(*) FROM "+table)
	}
	n := c.mem.Counts()
	counts := map[string]int{
		"invoices": n.Invoices, "invoice_lines": n.Lines, "payments": n.Payments,
		"outbox": n.Events, "idempotency_keys": n.IdempotencyKeys, "credit_notes": n.CreditNotes,
	}
	got, ok := counts[table]
	if !ok {
		t.Fatalf("rows: no table %q", table)
	}
	return got
}

// eventsOf returns how many events the outbox holds of aggregate id, of
// type eventType unless it is "".
func (c *api) eventsOf(t *testing.T, id, eventType string) int {
	t.Helper()
	if c.mem == nil {
		return c.count(t, "SELECT count(*) FROM outbox WHERE aggregate_id = $1 AND ($2::text = '' OR event_type = $2::text)", id, eventType)
	}
	n := 0
	for _, r := range c.mem.Outbox() {
		if r.AggregateID.String() == id && (eventType == "" || r.Type == eventType) {
			n++
		}
	}
	return n
}

// tenantOfInvoice returns the id of invoice id's tenant.
func (c *api) tenantOfInvoice(t *testing.T, id string) string {
	t.Helper()
	if c.mem == nil {
		var tenant string
		if err := c.db(t).QueryRow(t.Context(), "SELECT tenant_id::text FROM invoices WHERE id = $1", id).Scan(&tenant); err != nil {
			t.Fatalf("tenant of invoice %s: %v", id, err)
		}
		return tenant
	}
	for _, r := range c.mem.Outbox() {
		if r.AggregateID.String() == id {
			return r.Tenant.String()
		}
	}
	t.Fatalf("tenant of invoice %s: no such invoice", id)
	return ""
}

// eventsOfTenant returns how many events the outbox holds of tenant.
func (c *api) eventsOfTenant(t *testing.T, tenant string) int {
	t.Helper()
	if c.mem == nil {
		return c.count(t, "SELECT count(*) FROM outbox WHERE tenant_id = $1", tenant)
	}
	n := 0
	for _, r := range c.mem.Outbox() {
		if r.Tenant.String() == tenant {
			n++
		}
	}
	return n
}

// eventsTraced returns how many events the outbox holds with this
// correlation id and traceparent.
func (c *api) eventsTraced(t *testing.T, correlationID, traceParent string) int {
	t.Helper()
	if c.mem == nil {
		return c.count(t, "SELECT count(*) FROM outbox WHERE correlation_id = $1 AND traceparent = $2", correlationID, traceParent)
	}
	n := 0
	for _, r := range c.mem.Outbox() {
		if r.Trace.CorrelationID == correlationID && r.Trace.TraceParent == traceParent {
			n++
		}
	}
	return n
}

// setSequence makes n the outbox's last sequence: the next event gets n+1.
func (c *api) setSequence(t *testing.T, n int64) {
	t.Helper()
	if c.mem != nil {
		c.mem.SetSequence(n)
		return
	}
	if _, err := c.db(t).Exec(t.Context(), "SELECT setval(pg_get_serial_sequence('outbox', 'sequence'), $1::bigint)", n); err != nil {
		t.Fatal(err)
	}
}

// invoiceIDs returns the ids of the committed invoices of every tenant.
func (c *api) invoiceIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	if c.mem != nil {
		for _, id := range c.mem.InvoiceIDs() {
			ids = append(ids, id.String())
		}
		return ids
	}
	rows, err := c.db(t).Query(t.Context(), "SELECT id::text FROM invoices")
	if err != nil {
		t.Fatal(err)
	}
	ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// keysStored returns how many responses are stored under idempotency key.
func (c *api) keysStored(t *testing.T, key string) int {
	t.Helper()
	if c.mem == nil {
		return c.count(t, "SELECT count(*) FROM idempotency_keys WHERE key = $1", key)
	}
	return c.mem.KeysStored(key)
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with key as bearer token ("" for none). body is nil (no
// body), a string (sent raw) or a value sent as JSON; either way Content-Type
// is application/json unless header (name, value pairs) overrides it.
func (c *api) do(t *testing.T, method, path, key string, body any, header ...string) response {
	t.Helper()
	res, err := c.try(method, path, key, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// try is do for goroutines other than the test's: it returns what do fails on.
func (c *api) try(method, path, key string, body any, header ...string) (response, error) {
	req, err := apitest.NewRequest(method, c.url+path, key, body)
	if err != nil {
		return response{}, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}, nil
}

// newDraft creates a draft of tenant key with one line of 10 × 1000 at 20% (total 12000 EUR cents).
func (c *api) newDraft(t *testing.T, key string) invoiceJSON {
	t.Helper()
	return wantInvoice(t, c.do(t, "POST", "/v1/invoices", key, map[string]any{
		"customer": map[string]string{"name": "ACME GmbH", "email": "billing@acme.example"},
		"currency": "EUR",
		"lines":    []map[string]any{{"description": "Consulting", "quantity": 10, "unit_amount": 1000, "tax_rate_bps": 2000}},
	}), http.StatusCreated)
}

// newOpen creates and issues an invoice of 12000 EUR cents.
func (c *api) newOpen(t *testing.T, key string) invoiceJSON {
	t.Helper()
	inv := c.newDraft(t, key)
	return wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/issue", key, nil), http.StatusOK)
}

// get reads an invoice of tenant key, failing the test unless it is there.
func (c *api) get(t *testing.T, key, id string) invoiceJSON {
	t.Helper()
	return wantInvoice(t, c.do(t, "GET", "/v1/invoices/"+id, key, nil), http.StatusOK)
}

// wantUnchanged checks that the invoice is exactly as before.
func (c *api) wantUnchanged(t *testing.T, key string, before invoiceJSON) {
	t.Helper()
	after := c.get(t, key, before.ID)
	a, _ := json.Marshal(after)
	b, _ := json.Marshal(before)
	if !bytes.Equal(a, b) {
		t.Errorf("invoice changed:\nbefore %s\nafter  %s", b, a)
	}
}

// connect opens a pool on url, closed when the test ends (before pgtest drops
// the database).
func connect(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := invoicingpg.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimSpace(s), "\n")
}
