package invoicinghttp

import (
	"net/http"

	"github.com/invoicing-dev/invoicing/api"
)

// openAPI serves GET /v1/openapi.yaml: the embedded contract, exactly the
// document the tests validate every request and response against. It is
// public: callers need the contract to learn how to authenticate.
func openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(api.OpenAPI)
}
