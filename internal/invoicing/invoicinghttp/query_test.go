package invoicinghttp_test

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
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
	contract, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	pathParam := regexp.MustCompile(`\{[a-z_]+\}`)
	for path, item := range contract.doc.Paths.Map() {
		if !strings.HasPrefix(path, "/v1/") || path == "/v1/openapi.yaml" || strings.HasPrefix(path, "/v1/webhook_endpoints") {
			continue
		}
		concrete := pathParam.ReplaceAllStringFunc(path, func(string) string { return uuid.Must(uuid.NewV7()).String() })
		for method, op := range item.Operations() {
			var documented []string
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				if p.Value.In == "query" {
					documented = append(documented, p.Value.Name)
				}
			}
			t.Run(method+" "+path, func(t *testing.T) {
				res := c.do(t, method, concrete+"?invoice="+uuid.NewString(), c.keyA, nil)
				wantProblem(t, res, http.StatusBadRequest, "unknown_parameter", "invoice")
				for _, name := range documented {
					res := c.do(t, method, concrete+"?"+name+"=1&"+name+"=2", c.keyA, nil)
					wantProblem(t, res, http.StatusBadRequest, "duplicate_parameter", name)
					// Outside the contract client: "1" is no valid value of
					// most parameters, and what the handler says of it is
					// not this test's business.
					req, err := http.NewRequest(method, c.url+concrete+"?"+name+"=1", nil)
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("Authorization", "Bearer "+c.keyA)
					raw, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(raw.Body)
					raw.Body.Close()
					if strings.Contains(string(body), "_parameter") {
						t.Errorf("?%s=1, a documented parameter, refused: %d %s", name, raw.StatusCode, body)
					}
				}
			})
		}
	}
	t.Run("malformed", func(t *testing.T) {
		res := c.do(t, "GET", "/v1/invoices?limit=%zz", c.keyA, nil)
		wantProblem(t, res, http.StatusBadRequest, "malformed_query", "")
	})
}
