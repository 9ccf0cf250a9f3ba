package invoicinghttp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/apitest"
)

// TestContractCatchesDrift checks the checker every HTTP test goes through: a
// response with an undocumented field, status or missing header, and a
// request the spec does not describe, fail the exchange. Fake servers answer
// with a doctored copy of a real response.
func TestContractCatchesDrift(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)
	path := "/v1/invoices/" + inv.ID
	good := c.do(t, "GET", path, c.keyA, nil)

	var doc map[string]any
	if err := json.Unmarshal(good.body, &doc); err != nil {
		t.Fatal(err)
	}
	doc["discount"] = 0
	withField, _ := json.Marshal(doc)
	problem := []byte(`{"type":"urn:invoicing:problem:teapot","title":"Teapot","status":418,"detail":"short and stout"}`)

	answer := func(status int, body []byte, drop ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			for k, v := range good.header {
				w.Header()[k] = v
			}
			for _, k := range append(drop, "Content-Length") {
				w.Header().Del(k)
			}
			if status >= 400 {
				w.Header().Set("Content-Type", "application/problem+json")
			}
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}
	}
	responses := map[string]http.HandlerFunc{
		"the genuine response":            answer(http.StatusOK, good.body),
		"an undocumented field":           answer(http.StatusOK, withField),
		"an undocumented status":          answer(http.StatusTeapot, problem),
		"no ETag":                         answer(http.StatusOK, good.body, "ETag"),
		"no X-Request-Id":                 answer(http.StatusOK, good.body, "X-Request-Id"),
		"a 304 without ETag":              answer(http.StatusNotModified, nil, "ETag"),
		"a problem the route cannot give": answer(http.StatusUnsupportedMediaType, []byte(`{"type":"urn:invoicing:problem:unsupported_media_type","title":"x","status":415,"detail":"x"}`)),
	}
	for name, h := range responses {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			fake := *c
			fake.url = srv.URL
			_, err := fake.try("GET", path, c.keyA, nil)
			if name == "the genuine response" {
				if err != nil {
					t.Fatalf("the checker rejects a genuine response: %v", err)
				}
				return
			}
			if !apitest.IsContractError(err) {
				t.Errorf("want a contract violation, got %v", err)
			}
		})
	}

	requests := []struct {
		name, method, path string
		body               any
	}{
		{"an unknown field", "POST", "/v1/invoices", `{"currency":"EUR","discount":1}`},
		{"a wrong type", "POST", path + "/payments", `{"amount":"10","reference":"r"}`},
		{"an undocumented route", "GET", "/v1/customers", nil},
		{"an undocumented method", "PUT", path, nil},
		{"a limit that is no integer", "GET", "/v1/events?limit=many", nil},
	}
	for _, tt := range requests {
		if _, err := c.try(tt.method, tt.path, c.keyA, tt.body); !apitest.IsContractError(err) {
			t.Errorf("%s: want a contract violation, got %v", tt.name, err)
		}
	}
}
