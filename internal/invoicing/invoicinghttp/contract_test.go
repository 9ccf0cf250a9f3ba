package invoicinghttp_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/apitest"
)

// get returns the status and body of GET url; the exchange must follow
// api/openapi.yaml (see apitest.Transport).
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	return getWith(t, specClient(t, false), url)
}

// getInvalid is get for a route the document does not have: the answer
// must be a documented problem.
func getInvalid(t *testing.T, url string) (int, []byte) {
	t.Helper()
	return getWith(t, specClient(t, true), url)
}

// specClient returns the contract-checking client of apitest.
func specClient(t *testing.T, invalidRequest bool) *http.Client {
	t.Helper()
	contract, err := apitest.LoadContract()
	if err != nil {
		t.Fatal(err)
	}
	return contract.Client(invalidRequest)
}

// getWith returns the status and body of GET url sent by client.
func getWith(t *testing.T, client *http.Client, url string) (int, []byte) {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, body
}
