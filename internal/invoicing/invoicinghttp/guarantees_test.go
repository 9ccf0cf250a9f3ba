package invoicinghttp_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// tally counts the rows a change writes: invoices, lines, payments, outbox
// events and stored idempotent responses.
func (c *api) tally(t *testing.T) [5]int {
	t.Helper()
	var n [5]int
	for i, table := range []string{"invoices", "invoice_lines", "payments", "outbox", "idempotency_keys"} {
		n[i] = c.rows(t, table)
	}
	return n
}

// Every POST route honours Idempotency-Key (README "Retries"): a retry gets the
// stored response byte for byte with Idempotent-Replayed: true and writes
// nothing; the key with another request is a 422; and the key is the
// tenant's, so tenant B's request with it is its own.
func TestChangeInvoiceIdempotentReplayOnEveryPost(t *testing.T) {
	t.Parallel()
	customer := map[string]string{"name": "ACME", "email": "billing@acme.example"}
	tests := []struct {
		name   string
		status int
		// request returns a request of tenant key: the first (n = 0), or
		// another one (n = 1) of the same route.
		request func(t *testing.T, c *api, key string, n int) (path string, body any)
	}{
		{"create", http.StatusCreated, func(t *testing.T, c *api, key string, n int) (string, any) {
			return "/v1/invoices", map[string]any{"customer": customer, "currency": []string{"EUR", "USD"}[n]}
		}},
		{"add line", http.StatusCreated, func(t *testing.T, c *api, key string, n int) (string, any) {
			return "/v1/invoices/" + c.newDraft(t, key).ID + "/lines", map[string]any{"description": "Travel", "quantity": 1, "unit_amount": 500}
		}},
		{"issue", http.StatusOK, func(t *testing.T, c *api, key string, n int) (string, any) {
			return "/v1/invoices/" + c.newDraft(t, key).ID + "/issue", nil
		}},
		{"pay", http.StatusOK, func(t *testing.T, c *api, key string, n int) (string, any) {
			return "/v1/invoices/" + c.newOpen(t, key).ID + "/payments", map[string]any{"amount": 12000, "reference": "psp-1"}
		}},
		{"void", http.StatusOK, func(t *testing.T, c *api, key string, n int) (string, any) {
			return "/v1/invoices/" + c.newOpen(t, key).ID + "/void", map[string]any{"reason": "duplicate"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newAPI(t)
			path, body := tt.request(t, c, c.keyA, 0)
			otherPath, otherBody := tt.request(t, c, c.keyA, 1)
			before := c.tally(t)

			first := c.do(t, "POST", path, c.keyA, body, "Idempotency-Key", "key-1")
			inv := wantInvoice(t, first, tt.status)
			if first.header.Get("Idempotent-Replayed") != "" {
				t.Error("the first response is marked as replayed")
			}
			after := c.tally(t)
			if after[3] == before[3] || after[4] != before[4]+1 {
				t.Fatalf("the first request wrote %v (was %v): want events and one stored response", after, before)
			}
			current := c.get(t, c.keyA, inv.ID)

			again := c.do(t, "POST", path, c.keyA, body, "Idempotency-Key", "key-1")
			if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("retry: %d %s (Idempotent-Replayed %q)\nwant the first response replayed: %d %s",
					again.status, again.body, again.header.Get("Idempotent-Replayed"), first.status, first.body)
			}
			for _, h := range []string{"Content-Type", "ETag", "Location"} {
				if again.header.Get(h) != first.header.Get(h) {
					t.Errorf("retry %s = %q, first %q", h, again.header.Get(h), first.header.Get(h))
				}
			}
			if n := c.tally(t); n != after {
				t.Errorf("the retry wrote rows: %v, want %v", n, after)
			}
			c.wantUnchanged(t, c.keyA, current)

			// The key with another request of the same route: 422, nothing written.
			wantProblem(t, c.do(t, "POST", otherPath, c.keyA, otherBody, "Idempotency-Key", "key-1"),
				http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
			if n := c.tally(t); n != after {
				t.Errorf("the refused reuse wrote rows: %v, want %v", n, after)
			}

			// Tenant B's request with A's key is B's own: made, not refused nor replayed.
			bPath, bBody := tt.request(t, c, c.keyB, 0)
			res := c.do(t, "POST", bPath, c.keyB, bBody, "Idempotency-Key", "key-1")
			if got := wantInvoice(t, res, tt.status); got.ID == inv.ID || res.header.Get("Idempotent-Replayed") != "" || bytes.Equal(res.body, first.body) {
				t.Errorf("tenant B with tenant A's key got %s %s", res.header.Get("Idempotent-Replayed"), res.body)
			}
		})
	}
}

// A request that changes nothing (a repeated payment) stores nothing, so its
// key is free for the next request (openapi.yaml, IdempotencyKey).
func TestPayInvoice200RepeatedPaymentStoresNoKey(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID + "/payments"
	wantInvoice(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 2000, "reference": "psp-1"}), http.StatusOK)
	before := c.tally(t)

	res := c.do(t, "POST", path, c.keyA, map[string]any{"amount": 2000, "reference": "psp-1"}, "Idempotency-Key", "pay-1")
	if got := wantInvoice(t, res, http.StatusOK); got.AmountPaid != 2000 || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("repeated payment with a key: paid %d, Idempotent-Replayed %q", got.AmountPaid, res.header.Get("Idempotent-Replayed"))
	}
	if n := c.tally(t); n != before {
		t.Fatalf("a repeated payment wrote rows: %v, want %v", n, before)
	}
	// Nothing was stored, so the key is not "reused" by another request.
	res = c.do(t, "POST", path, c.keyA, map[string]any{"amount": 3000, "reference": "psp-2"}, "Idempotency-Key", "pay-1")
	if got := wantInvoice(t, res, http.StatusOK); got.AmountPaid != 5000 || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("a new payment with the key: paid %d, Idempotent-Replayed %q; want 5000, fresh", got.AmountPaid, res.header.Get("Idempotent-Replayed"))
	}
}

// A rejected create (400 or 422) writes nothing at all, not even its
// Idempotency-Key: the corrected retry with the same key is made afresh.
func TestCreateInvoice422WithKeyWritesNothing(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	empty := c.tally(t)
	bad := map[string]any{
		"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR",
		"lines": []map[string]any{{"description": "Work", "quantity": -1, "unit_amount": 100}},
	}
	wantProblem(t, c.do(t, "POST", "/v1/invoices", c.keyA, bad, "Idempotency-Key", "create-1"),
		http.StatusUnprocessableEntity, "invalid_quantity", "lines[0].quantity")
	wantProblem(t, c.invalid().do(t, "POST", "/v1/invoices", c.keyA, `{"currency":"EUR","x":1}`, "Idempotency-Key", "create-1"),
		http.StatusBadRequest, "unknown_field", "x")
	if n := c.tally(t); n != empty {
		t.Fatalf("rejected creates wrote rows (invoices, lines, payments, outbox, keys): %v", n)
	}
	bad["lines"] = []map[string]any{{"description": "Work", "quantity": 1, "unit_amount": 100}}
	res := c.do(t, "POST", "/v1/invoices", c.keyA, bad, "Idempotency-Key", "create-1")
	if wantInvoice(t, res, http.StatusCreated); res.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("the corrected retry was answered as a replay")
	}
}

// The event feed's query parameters are checked, and a bad one is a 422
// naming it (openapi.yaml: After, EventLimit).
func TestListEvents422BadQuery(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	c.newOpen(t, c.keyA)
	tests := []struct {
		query, code, field string
		breaksContract     bool // not an integer: the client must not validate the request
	}{
		{"limit=0", "invalid_limit", "limit", false},
		{"limit=-1", "invalid_limit", "limit", false},
		{"limit=abc", "invalid_limit", "limit", true},
		{"after=999999999", "invalid_cursor", "after", false}, // never sent
		{"after=1.5", "invalid_cursor", "after", true},
		{"type=", "", "", false}, // empty: no filter
	}
	for _, tt := range tests {
		client := c
		if tt.breaksContract {
			client = c.invalid()
		}
		res := client.do(t, "GET", "/v1/events?"+tt.query, c.keyA, nil)
		if tt.code == "" {
			if res.status != http.StatusOK {
				t.Errorf("%s: %d %s, want 200", tt.query, res.status, res.body)
			}
			continue
		}
		wantProblem(t, res, http.StatusUnprocessableEntity, tt.code, tt.field)
	}
}

// Another tenant's invoice is a 404 indistinguishable from a missing one
// (README "Tenants are isolated") on every route, whatever the conditional
// headers: a stale If-Match must not answer 412, which would reveal that the
// invoice exists.
func TestTenantIsolation404IndistinguishableFromMissing(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := c.newDraft(t, c.keyA)
	open := c.newOpen(t, c.keyA)
	beforeDraft, beforeOpen := c.get(t, c.keyA, draft.ID), c.get(t, c.keyA, open.ID)
	events := c.tally(t)
	const missing = "0190a0a0-0000-7000-8000-000000000000"
	const missingLine = "0190a0a0-0000-7000-8000-000000000001"

	tests := []struct {
		method, path string // %s is the invoice id
		id           string
		body         any
		header       []string
	}{
		{"GET", "/v1/invoices/%s", open.ID, nil, nil},
		{"GET", "/v1/invoices/%s", open.ID, nil, []string{"If-None-Match", `"v2"`}},
		{"GET", "/v1/invoices/%s", open.ID, nil, []string{"If-None-Match", "*"}},
		{"GET", "/v1/invoices/%s/events", open.ID, nil, nil},
		{"POST", "/v1/invoices/%s/lines", draft.ID, map[string]any{"description": "x", "quantity": 1, "unit_amount": 1}, []string{"If-Match", `"v0"`}},
		{"POST", "/v1/invoices/%s/issue", draft.ID, nil, []string{"If-Match", `"v0"`}},
		{"POST", "/v1/invoices/%s/payments", open.ID, map[string]any{"amount": 100, "reference": "r"}, []string{"If-Match", `"v0"`}},
		{"POST", "/v1/invoices/%s/void", open.ID, map[string]any{"reason": "x"}, []string{"If-Match", `"v0"`}},
		{"POST", "/v1/invoices/%s/void", open.ID, map[string]any{"reason": "x"}, []string{"Idempotency-Key", "k-1"}},
		{"DELETE", "/v1/invoices/%s/lines/" + draft.Lines[0].ID, draft.ID, nil, []string{"If-Match", `"v0"`}},
		{"DELETE", "/v1/invoices/%s/lines/" + missingLine, draft.ID, nil, nil},
	}
	requestID := regexp.MustCompile(`"request_id":"[^"]*"`)
	headers := func(res response) []string {
		var out []string
		for k := range res.header {
			if k != "Date" && k != "X-Request-Id" {
				out = append(out, k+": "+res.header.Get(k))
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range tests {
		foreignPath, missingPath := strings.Replace(tt.path, "%s", tt.id, 1), strings.Replace(tt.path, "%s", missing, 1)
		foreign := c.do(t, tt.method, foreignPath, c.keyB, tt.body, tt.header...)
		absent := c.do(t, tt.method, missingPath, c.keyB, tt.body, tt.header...)
		wantProblem(t, foreign, http.StatusNotFound, "invoice_not_found", "")
		fb, ab := requestID.ReplaceAll(foreign.body, nil), requestID.ReplaceAll(absent.body, nil)
		if foreign.status != absent.status || !bytes.Equal(fb, ab) || !slices.Equal(headers(foreign), headers(absent)) {
			t.Errorf("%s %s %v: another tenant's invoice answers\n%d %v %s\na missing one\n%d %v %s",
				tt.method, foreignPath, tt.header, foreign.status, headers(foreign), foreign.body, absent.status, headers(absent), absent.body)
		}
	}
	c.wantUnchanged(t, c.keyA, beforeDraft)
	c.wantUnchanged(t, c.keyA, beforeOpen)
	if n := c.tally(t); n != events {
		t.Errorf("tenant B's attempts wrote rows: %v, want %v", n, events)
	}
	// B's feed is still empty.
	res := c.do(t, "GET", "/v1/events", c.keyB, nil)
	var p feedPage
	if err := json.Unmarshal(res.body, &p); err != nil || res.status != http.StatusOK || len(p.Data) != 0 {
		t.Errorf("tenant B's feed: %d %s, want empty", res.status, res.body)
	}
}

// A stale If-Match on DELETE of a line changes nothing: the line stays and no
// event is written (TestChangeInvoice412IfMatch checks only the status).
func TestRemoveLine412ChangesNothing(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := c.newDraft(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+draft.ID+"/lines", c.keyA,
		map[string]any{"description": "Travel", "quantity": 1, "unit_amount": 500}), http.StatusCreated) // now v2
	before := c.get(t, c.keyA, draft.ID)
	rows := c.tally(t)
	for _, stale := range []string{`"v1"`, `W/"v2"`, `"v3"`} {
		wantProblem(t, c.do(t, "DELETE", "/v1/invoices/"+draft.ID+"/lines/"+before.Lines[0].ID, c.keyA, nil, "If-Match", stale),
			http.StatusPreconditionFailed, "version_mismatch", "If-Match")
	}
	c.wantUnchanged(t, c.keyA, before)
	if n := c.tally(t); n != rows {
		t.Errorf("refused removals wrote rows: %v, want %v", n, rows)
	}
}
