package invoicinghttp_test

import (
	"net/http"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/prismtest"
)

// TestPrismPassesTheServiceAsItIs sends an invoice's life, reads, the feed
// and some refusals through Prism's validating proxy in front of the real
// handler: Prism must find nothing wrong with any request or response (its
// TestPrismProxyEnforcesTheDocument in api shows it finds what is wrong).
// It runs only with INVOICING_PRISM set (tools/spec/check.sh prism).
func TestPrismPassesTheServiceAsItIs(t *testing.T) {
	prism := prismtest.Binary(t)
	c := newAPI(t)
	c.url = prismtest.Start(t, prism, "../../../api/openapi.yaml", c.url)

	clean := func(what string, res response) response {
		t.Helper()
		if v := res.header.Get("sl-violations"); v != "" {
			t.Errorf("%s: Prism reports %s", what, v)
		}
		return res
	}
	inv := c.newDraft(t, c.keyA)
	path := "/v1/invoices/" + inv.ID
	clean("add a line", c.do(t, "POST", path+"/lines", c.keyA,
		map[string]any{"description": "Travel", "quantity": 1, "unit_amount": 500, "tax_rate_bps": 0}))
	clean("lines", c.do(t, "GET", path+"/lines", c.keyA, nil))
	clean("issue", c.do(t, "POST", path+"/issue", c.keyA, nil, "Idempotency-Key", "issue-1"))
	clean("pay part", c.do(t, "POST", path+"/payments", c.keyA, map[string]any{"amount": 1000, "reference": "wire 1"}))
	clean("pay the rest", c.do(t, "POST", path+"/payments", c.keyA, map[string]any{"amount": 11500, "reference": "wire 2"}))
	read := clean("read", c.do(t, "GET", path, c.keyA, nil))
	clean("not modified", c.do(t, "GET", path, c.keyA, nil, "If-None-Match", read.header.Get("ETag")))
	clean("list", c.do(t, "GET", "/v1/invoices?limit=5&status=paid", c.keyA, nil))
	clean("history", c.do(t, "GET", path+"/events", c.keyA, nil))
	clean("feed", c.do(t, "GET", "/v1/events?limit=10", c.keyA, nil))
	clean("document", c.do(t, "GET", "/v1/openapi.yaml", "", nil))
	clean("alive", c.do(t, "GET", "/healthz", "", nil))
	clean("ready", c.do(t, "GET", "/readyz", "", nil))
	wantProblem(t, clean("another tenant's", c.do(t, "GET", path, c.keyB, nil)), http.StatusNotFound, "invoice_not_found", "")
	wantProblem(t, clean("overpay", c.do(t, "POST", path+"/payments", c.keyA, map[string]any{"amount": 1, "reference": "wire 3"})),
		http.StatusConflict, "invalid_transition", "")
	wantProblem(t, clean("limit out of range", c.do(t, "GET", "/v1/invoices?limit=0", c.keyA, nil)),
		http.StatusUnprocessableEntity, "invalid_limit", "limit")
}
