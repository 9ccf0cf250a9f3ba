package invoicinghttp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/apitest"
)

// TestQueryParametersAreTheDocumentedOnes sends every operation of
// api/openapi.yaml under /v1 that takes an API key a query parameter it
// does not document, and each one it documents twice: both are a 400
// naming the parameter, before anything else is read. Ignored, a filter
// the route does not know (?invoice=… on GET /v1/credit_notes) would answer
// every item as if filtered. Each documented parameter, given once, gets
// past the check, whatever the handler then says of its value. The
// webhook operations are the notification context's routes: notifyhttp's
// test of the same name checks them.
func TestQueryParametersAreTheDocumentedOnes(t *testing.T) {
	t.Parallel()
	c := newAPI(t).invalid()
	apitest.CheckQueryParameters(t, c.url, c.keyA, func(path string) bool {
		return strings.HasPrefix(path, "/v1/") && path != "/v1/openapi.yaml" && !strings.HasPrefix(path, "/v1/webhook_endpoints")
	}, func(t *testing.T, method, path string) (int, http.Header, []byte) {
		res := c.do(t, method, path, c.keyA, nil)
		return res.status, res.header, res.body
	})
	t.Run("malformed", func(t *testing.T) {
		res := c.do(t, "GET", "/v1/invoices?limit=%zz", c.keyA, nil)
		wantProblem(t, res, http.StatusBadRequest, "malformed_query", "")
	})
}
