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

// TestCommitLostWithoutKeyAnswers503CheckFirst: the same lost answer for a
// change sent without an Idempotency-Key. The change may be stored, so the
// answer is commit_outcome_unknown (never service_unavailable, which means
// nothing changed), and it says to check before sending the change again,
// since without a key a retry may make it twice. Both write paths: a new
// invoice (one implicit transaction, a batch with no COMMIT) and a payment.
func TestCommitLostWithoutKeyAnswers503CheckFirst(t *testing.T) {
	t.Parallel()
	c, proxy, _ := newProxiedAPI(t)
	create := map[string]any{
		"customer": map[string]string{"name": "ACME GmbH", "email": "billing@acme.example"},
		"currency": "EUR",
		"lines":    []map[string]any{{"description": "Consulting", "quantity": 1, "unit_amount": 1000, "tax_rate_bps": 0}},
	}
	// First on the fresh pool: the insert is prepared with this batch.
	proxy.CutNextBatchWith("INSERT INTO invoices")
	first := c.do(t, "POST", "/v1/invoices", c.keyA, create)
	checkFirst(t, "new invoice", first)

	inv := c.newOpen(t, c.keyA)
	proxy.CutNextCommit()
	paid := c.do(t, "POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": 5000, "reference": "psp_commit_lost_nokey"})
	checkFirst(t, "payment", paid)
}

// checkFirst fails t unless r is the 503 commit_outcome_unknown of a change
// sent without an Idempotency-Key: it says to check before sending it again.
func checkFirst(t *testing.T, name string, r response) {
	t.Helper()
	p := wantProblem(t, r, http.StatusServiceUnavailable, "commit_outcome_unknown", "")
	if strings.Contains(p.Detail, "same Idempotency-Key is safe") || !strings.Contains(p.Detail, "check") {
		t.Errorf("%s without a key: %q, want it to say to check before sending the change again", name, p.Detail)
	}
}
