package invoicinghttp_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// count runs a count(*) query on the API's database.
func (c *api) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := c.db(t).QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestCreateInvoice201IdempotentReplay(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	body := map[string]any{
		"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR",
		"lines": []map[string]any{{"description": "Work", "quantity": 1, "unit_amount": 100}},
	}
	first := c.do(t, "POST", "/v1/invoices", c.keyA, body, "Idempotency-Key", "create-1")
	inv := wantInvoice(t, first, http.StatusCreated)
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Error("first response marked as replayed")
	}
	events := c.rows(t, "outbox")

	again := c.do(t, "POST", "/v1/invoices", c.keyA, body, "Idempotency-Key", "create-1")
	if again.status != http.StatusCreated || !bytes.Equal(again.body, first.body) {
		t.Fatalf("replay: %d %s\nwant the first response: %s", again.status, again.body, first.body)
	}
	for _, h := range []string{"Content-Type", "ETag", "Location"} {
		if again.header.Get(h) != first.header.Get(h) {
			t.Errorf("replay %s = %q, first %q", h, again.header.Get(h), first.header.Get(h))
		}
	}
	if again.header.Get("Idempotent-Replayed") != "true" {
		t.Error("replay without Idempotent-Replayed: true")
	}
	if n := c.rows(t, "outbox"); n != events {
		t.Errorf("replay added events: %d, want %d", n, events)
	}
	if n := c.rows(t, "invoices"); n != 1 {
		t.Errorf("%d invoices after a replayed create, want 1 (%s)", n, inv.ID)
	}

	// The key is the tenant's: tenant B's request with it is its own.
	other := c.do(t, "POST", "/v1/invoices", c.keyB, body, "Idempotency-Key", "create-1")
	if wantInvoice(t, other, http.StatusCreated).ID == inv.ID || other.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("tenant B got tenant A's stored response: %s", other.body)
	}
}

func TestPayInvoice200IdempotencyKey(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID + "/payments"
	pay := map[string]any{"amount": 5000, "reference": "psp-1"}

	first := c.do(t, "POST", path, c.keyA, pay, "Idempotency-Key", "pay-1")
	wantInvoice(t, first, http.StatusOK)
	events := c.eventsOf(t, inv.ID, "")
	// A change made since does not alter the replay: it is the stored response.
	wantInvoice(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 1000, "reference": "psp-2"}), http.StatusOK)
	before := c.get(t, c.keyA, inv.ID)

	again := c.do(t, "POST", path, c.keyA, pay, "Idempotency-Key", "pay-1")
	if again.status != http.StatusOK || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s, want the first response replayed: %s", again.status, again.body, first.body)
	}
	c.wantUnchanged(t, c.keyA, before)

	// The same key for another request: 422, nothing changes.
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 4000, "reference": "psp-1"}, "Idempotency-Key", "pay-1"),
		http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/void", c.keyA, map[string]any{"reason": "x"}, "Idempotency-Key", "pay-1"),
		http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
	c.wantUnchanged(t, c.keyA, before)
	if n := c.eventsOf(t, inv.ID, ""); n != events+1 {
		t.Errorf("%d events, want %d: the replay and the refused reuse must add none", n, events+1)
	}

	// A key must be sane.
	for _, key := range []string{"", strings.Repeat("k", 256), "has space"} {
		wantProblem(t, c.do(t, "POST", path, c.keyA, pay, "Idempotency-Key", key),
			http.StatusUnprocessableEntity, "invalid_idempotency_key", "Idempotency-Key")
	}
	c.wantUnchanged(t, c.keyA, before)
}

// A request that fails stores nothing: its retry is evaluated afresh.
func TestVoidInvoice409ThenRetryWithTheSameKey200(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)
	void := map[string]any{"reason": "duplicate"}
	path := "/v1/invoices/" + inv.ID
	wantProblem(t, c.do(t, "POST", path+"/void", c.keyA, void, "Idempotency-Key", "void-1"), http.StatusConflict, "invalid_transition", "")
	if n := c.rows(t, "idempotency_keys"); n != 0 {
		t.Fatalf("a failed request stored %d responses", n)
	}
	wantInvoice(t, c.do(t, "POST", path+"/issue", c.keyA, nil), http.StatusOK)
	res := c.do(t, "POST", path+"/void", c.keyA, void, "Idempotency-Key", "void-1")
	if got := wantInvoice(t, res, http.StatusOK); got.Status != "void" || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry after the state changed: %s %+v, want a fresh void", res.header.Get("Idempotent-Replayed"), got)
	}
}

// Ten concurrent requests with one key: one effect, one stored response; the
// others are told the key is in use (409) or get that response replayed.
func TestPayInvoiceConcurrentIdempotencyKey(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID + "/payments"
	pay := map[string]any{"amount": 3000, "reference": "psp-race"}

	const n = 10
	results := make([]response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = c.try("POST", path, c.keyA, pay, "Idempotency-Key", "race-1")
		})
	}
	close(start)
	wg.Wait()

	var fresh, replayed, inUse int
	var body []byte
	for i, res := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch {
		case res.status == http.StatusConflict:
			wantProblem(t, res, http.StatusConflict, "idempotency_key_in_use", "Idempotency-Key")
			inUse++
			continue
		case res.status != http.StatusOK:
			t.Fatalf("status %d: %s", res.status, res.body)
		case res.header.Get("Idempotent-Replayed") == "true":
			replayed++
		default:
			fresh++
		}
		if body != nil && !bytes.Equal(body, res.body) {
			t.Errorf("two different 200 bodies:\n%s\n%s", body, res.body)
		}
		body = res.body
	}
	t.Logf("%d fresh, %d replayed, %d in use", fresh, replayed, inUse)
	if fresh != 1 || fresh+replayed+inUse != n {
		t.Fatalf("%d fresh, %d replayed, %d in use; want exactly 1 fresh", fresh, replayed, inUse)
	}
	got := c.get(t, c.keyA, inv.ID)
	if got.AmountPaid != 3000 || len(got.Payments) != 1 {
		t.Errorf("after the race: amount_paid %d with %d payments, want one payment of 3000", got.AmountPaid, len(got.Payments))
	}
	if k := c.eventsOf(t, inv.ID, "invoice.payment_recorded"); k != 1 {
		t.Errorf("%d payment_recorded events, want 1", k)
	}
	if k := c.keysStored(t, "race-1"); k != 1 {
		t.Errorf("%d stored responses, want 1", k)
	}
}

// The first answer to an idempotent change is framed from the result the
// change stored, as every replay is: it is the invoice as committed, the
// answer a GET gives, and what the key replays.
func TestPayInvoice200IdempotentAnswerIsTheCommittedInvoice(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID + "/payments"
	pay := map[string]any{"amount": 5000, "reference": "psp-1"}
	first := c.do(t, "POST", path, c.keyA, pay, "Idempotency-Key", "pay-1")
	wantInvoice(t, first, http.StatusOK)
	read := c.do(t, "GET", "/v1/invoices/"+inv.ID, c.keyA, nil)
	if !bytes.Equal(first.body, read.body) || first.header.Get("ETag") != read.header.Get("ETag") {
		t.Fatalf("first answer %s (ETag %s)\nwant the invoice as read back: %s (ETag %s)",
			first.body, first.header.Get("ETag"), read.body, read.header.Get("ETag"))
	}
	again := c.do(t, "POST", path, c.keyA, pay, "Idempotency-Key", "pay-1")
	if again.status != http.StatusOK || !bytes.Equal(again.body, first.body) || again.header.Get("ETag") != first.header.Get("ETag") {
		t.Fatalf("replay: %d %s, want the first answer: %s", again.status, again.body, first.body)
	}
}

// A key stored by the version before results holds that version's framed
// answer (status, headers sorted by name, body); a retry of its request
// gets it back byte for byte, whatever the invoice has become since.
func TestIdempotentReplayOfAnAnswerStoredBeforeResults(t *testing.T) {
	t.Parallel()
	c := newPostgresAPI(t)
	inv := c.newOpen(t, c.keyA)
	for _, tc := range []struct {
		path    string
		body    map[string]any
		status  int
		headers []string
	}{
		{"/v1/invoices/" + inv.ID + "/payments", map[string]any{"amount": 5000, "reference": "psp-1"}, http.StatusOK,
			[]string{"Content-Type", "ETag"}},
		{"/v1/invoices/" + inv.ID + "/credit_notes", map[string]any{"amount": 700, "reason": "duplicate"}, http.StatusCreated,
			[]string{"Content-Type", "Location"}},
	} {
		key := "old-" + tc.path
		first := c.do(t, "POST", tc.path, c.keyA, tc.body, "Idempotency-Key", key)
		if first.status != tc.status {
			t.Fatalf("%s: %d %s", tc.path, first.status, first.body)
		}
		framed := strconv.Itoa(first.status) + "\n"
		for _, h := range tc.headers {
			framed += h + ": " + first.header.Get(h) + "\n"
		}
		framed += "\n" + string(first.body)
		tag, err := c.db(t).Exec(context.Background(), `UPDATE idempotency_keys SET response = $2,
			resource_kind = NULL, resource_id = NULL, resource_version = NULL, resource_view = NULL WHERE key = $1`, key, []byte(framed))
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("%s: storing the answer as the version before did: %v, %d rows", tc.path, err, tag.RowsAffected())
		}
		// Changed since: a replay is the stored answer, not the invoice now.
		wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": 1, "reference": key}), http.StatusOK)

		again := c.do(t, "POST", tc.path, c.keyA, tc.body, "Idempotency-Key", key)
		if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s: replay %d %s, want the stored answer: %d %s", tc.path, again.status, again.body, first.status, first.body)
		}
		for _, h := range tc.headers {
			if again.header.Get(h) != first.header.Get(h) {
				t.Errorf("%s: replay %s = %q, first %q", tc.path, h, again.header.Get(h), first.header.Get(h))
			}
		}
	}
}
