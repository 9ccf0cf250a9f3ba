package invoicinghttp_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCommitLostAnswers503CommitOutcomeUnknown cuts the connection right
// after the server has committed a change, before its answer reaches the
// service (a proxy that drops the server's reply to COMMIT): the service
// cannot know the change is stored, so it answers a 503
// commit_outcome_unknown saying a retry with the same Idempotency-Key is
// safe; the retry returns the first answer, replayed, and the change is
// stored once. Both write paths: a payment (an update) and a new invoice.
func TestCommitLostAnswers503CommitOutcomeUnknown(t *testing.T) {
	t.Parallel()
	c, proxy, dbURL := newProxiedAPI(t)
	inv := c.newOpen(t, c.keyA)
	direct := connect(t, dbURL)
	invoices := func() int {
		t.Helper()
		var n int
		if err := direct.QueryRow(context.Background(), "SELECT count(*) FROM invoices").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	payment := map[string]any{"amount": 5000, "reference": "psp_commit_lost"}
	create := map[string]any{
		"customer": map[string]string{"name": "ACME GmbH", "email": "billing@acme.example"},
		"currency": "EUR",
		"lines":    []map[string]any{{"description": "Consulting", "quantity": 1, "unit_amount": 1000, "tax_rate_bps": 0}},
	}
	for _, req := range []struct {
		name, path string
		body       any
		status     int
	}{
		{"payment", "/v1/invoices/" + inv.ID + "/payments", payment, http.StatusOK},
		{"new invoice", "/v1/invoices", create, http.StatusCreated},
	} {
		key := "commit-lost-" + strings.ReplaceAll(req.name, " ", "-")
		invoicesBefore := invoices()
		proxy.CutNextCommit()
		first := c.do(t, "POST", req.path, c.keyA, req.body, "Idempotency-Key", key)
		p := wantProblem(t, first, http.StatusServiceUnavailable, "commit_outcome_unknown", "")
		if !strings.Contains(p.Detail, "same Idempotency-Key is safe") {
			t.Errorf("%s: the 503 does not say a retry with the same key is safe: %q", req.name, p.Detail)
		}
		if first.header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", req.name)
		}

		// The pool may hand out the broken connection's twin once more: retry
		// on 503 with the same key, as the answer says.
		var again response
		for attempt := 1; ; attempt++ {
			again = c.do(t, "POST", req.path, c.keyA, req.body, "Idempotency-Key", key)
			if again.status != http.StatusServiceUnavailable || attempt == 10 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if again.status != req.status || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s: the retry got %d (Idempotent-Replayed %q), want the first answer %d replayed; body: %s",
				req.name, again.status, again.header.Get("Idempotent-Replayed"), req.status, again.body)
		}
		if req.name == "new invoice" {
			if n := invoices(); n != invoicesBefore+1 {
				t.Errorf("new invoice: %d invoices after the lost commit and its retry, want %d", n, invoicesBefore+1)
			}
			continue
		}
		if after := c.get(t, c.keyA, inv.ID); after.AmountPaid != 5000 || !bytes.Contains(again.body, []byte(`"amount_paid":5000`)) {
			t.Errorf("payment: amount_paid %d after the lost commit and its retry, want 5000 (paid once); answer %s", after.AmountPaid, again.body)
		}
	}
}
