package notifyhttp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/apitest"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// TestQueryParametersAreTheDocumentedOnes sends every operation of
// api/openapi.yaml under /v1 that takes an API key a query parameter it
// does not document, and each one it documents twice: both are a 400
// naming the parameter, before anything else is read. Ignored, a filter
// the route does not know (?invoice=… on GET /v1/credit_notes) would answer
// every item as if filtered. Each documented parameter, given once, gets
// past the check, whatever the handler then says of its value. These are
// the webhook operations; invoicinghttp's test of the same name checks the
// others.
func TestQueryParametersAreTheDocumentedOnes(t *testing.T) {
	t.Parallel()
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{}).invalid()
	apitest.CheckQueryParameters(t, c.url, c.keyA, func(path string) bool {
		return strings.HasPrefix(path, "/v1/webhook_endpoints")
	}, func(t *testing.T, method, path string) (int, http.Header, []byte) {
		res := c.do(t, method, path, c.keyA, nil)
		return res.status, res.header, res.body
	})
}
