package apitest

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// Sender sends a request without a body, with the API key of the check, to
// path on the service under test, through a client that checks responses
// only (the requests break the contract on purpose), and returns the
// response's status, header and body.
type Sender func(t *testing.T, method, path string) (status int, header http.Header, body []byte)

// CheckQueryParameters sends every operation of the document whose path
// include accepts a query parameter it does not document, and each one it
// documents twice: both must be a 400 problem naming the parameter. Each
// documented parameter, given once, must get past that check, whatever the
// handler then says of its value. url is the service's base URL and key an
// API key of one of its tenants; send sends the refused requests.
func CheckQueryParameters(t *testing.T, url, key string, include func(path string) bool, send Sender) {
	t.Helper()
	contract, err := LoadContract()
	if err != nil {
		t.Fatal(err)
	}
	pathParam := regexp.MustCompile(`\{[a-z_]+\}`)
	for path, item := range contract.doc.Paths.Map() {
		if !include(path) {
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
				status, header, body := send(t, method, concrete+"?invoice="+uuid.NewString())
				WantProblem(t, status, header, body, http.StatusBadRequest, "unknown_parameter", "invoice")
				for _, name := range documented {
					status, header, body := send(t, method, concrete+"?"+name+"=1&"+name+"=2")
					WantProblem(t, status, header, body, http.StatusBadRequest, "duplicate_parameter", name)
					// Outside the contract client: "1" is no valid value of
					// most parameters, and what the handler says of it is
					// not this test's business.
					req, err := http.NewRequest(method, url+concrete+"?"+name+"=1", nil)
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("Authorization", "Bearer "+key)
					raw, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					answer, _ := io.ReadAll(raw.Body)
					raw.Body.Close()
					if strings.Contains(string(answer), "_parameter") {
						t.Errorf("?%s=1, a documented parameter, refused: %d %s", name, raw.StatusCode, answer)
					}
				}
			})
		}
	}
}
