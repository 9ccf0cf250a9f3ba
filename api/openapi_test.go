package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/invoicing-dev/invoicing/api"
)

// notProblems are the error responses that are no problem+json: GET /readyz's
// 503 is the readiness report, the same document as its 200, for probes.
var notProblems = map[string]bool{"GET /readyz 503": true}

// publicOperations are the only operations that take no API key: the
// operational routes and the document.
var publicOperations = []string{"GET /healthz", "GET /metrics", "GET /readyz", "GET /v1/openapi.yaml"}

// spec loads the embedded document once and checks that it is a valid
// OpenAPI 3.1 document. Validate also checks every example against its schema,
// with the JSON Schema 2020-12 validator for a 3.1 document.
var spec = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if doc.OpenAPIMajorMinor() != "3.1" {
		return nil, fmt.Errorf("openapi = %q, want a 3.1.x document", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not valid: %w", err)
	}
	return doc, nil
})

// loadSpec returns the document or fails the test; callers must not change it.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := spec()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

type operation struct {
	key  string // "METHOD /path"
	path string
	op   *openapi3.Operation
}

// operations returns every operation of doc in a stable order.
func operations(doc *openapi3.T) []operation {
	var ops []operation
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			ops = append(ops, operation{key: method + " " + path, path: path, op: op})
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.key, b.key) })
	return ops
}

// statuses returns the documented statuses of op, e.g. "200", "404".
func statuses(op *openapi3.Operation) []string {
	var out []string
	for code := range op.Responses.Map() {
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}

func hasParam(op *openapi3.Operation, pathItem *openapi3.PathItem, in, name string) bool {
	for _, p := range slices.Concat(pathItem.Parameters, op.Parameters) {
		if p.Value != nil && p.Value.In == in && strings.EqualFold(p.Value.Name, name) {
			return true
		}
	}
	return false
}

func TestSpecIsValidOpenAPI31(t *testing.T) {
	doc := loadSpec(t)
	if len(operations(doc)) != 30 {
		t.Errorf("%d operations, want 30", len(operations(doc)))
	}
}

func TestEveryOperationIsDocumented(t *testing.T) {
	doc := loadSpec(t)
	ids := map[string]string{}
	for _, o := range operations(doc) {
		t.Run(o.key, func(t *testing.T) {
			op := o.op
			if op.OperationID == "" {
				t.Error("no operationId")
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q also used by %s", op.OperationID, prev)
			}
			ids[op.OperationID] = o.key
			if op.Summary == "" || op.Description == "" || len(op.Tags) == 0 {
				t.Error("needs a summary, a description and a tag")
			}
			if rb := op.RequestBody; rb != nil {
				for mt, media := range rb.Value.Content {
					if media.Example == nil && len(media.Examples) == 0 {
						t.Errorf("request body %s has no example", mt)
					}
				}
			}
			for _, code := range statuses(op) {
				resp := op.Responses.Value(code).Value
				for mt, media := range resp.Content {
					if media.Example == nil && len(media.Examples) == 0 {
						t.Errorf("response %s %s has no example", code, mt)
					}
				}
				if h := resp.Headers["X-Request-Id"]; h == nil || !h.Value.Required {
					t.Errorf("response %s does not require X-Request-Id", code)
				}
				if code[0] >= '4' && !notProblems[o.key+" "+code] {
					if media := resp.Content.Get("application/problem+json"); media == nil ||
						media.Schema.Ref != "#/components/schemas/Problem" {
						t.Errorf("response %s is not an application/problem+json Problem", code)
					}
				}
			}
			if op.Responses.Value("405") == nil {
				t.Error("no 405 response")
			}
		})
	}
}

func TestEveryProtectedOperationDocuments401(t *testing.T) {
	doc := loadSpec(t)
	if len(doc.Security) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Fatalf("top-level security = %v, want bearerAuth", doc.Security)
	}
	if s := doc.Components.SecuritySchemes["bearerAuth"].Value; s.Type != "http" || s.Scheme != "bearer" {
		t.Fatalf("bearerAuth = %s %s, want http bearer", s.Type, s.Scheme)
	}
	var public []string
	for _, o := range operations(doc) {
		if o.op.Security != nil && len(*o.op.Security) == 0 {
			public = append(public, o.key)
			continue
		}
		resp := o.op.Responses.Value("401")
		if resp == nil {
			t.Errorf("%s: no 401 response", o.key)
			continue
		}
		if h := resp.Value.Headers["WWW-Authenticate"]; h == nil || !h.Value.Required {
			t.Errorf("%s: 401 does not require WWW-Authenticate", o.key)
		}
	}
	if !slices.Equal(public, publicOperations) {
		t.Errorf("public operations = %v, want %v", public, publicOperations)
	}
}

// TestErrorResponsesFollowTheRouteShape checks the statuses and headers that
// follow from what a route takes: a body, query parameters, an id, a POST.
func TestErrorResponsesFollowTheRouteShape(t *testing.T) {
	doc := loadSpec(t)
	for _, o := range operations(doc) {
		item := doc.Paths.Value(o.path)
		method := strings.Fields(o.key)[0]
		var want []string
		if o.op.RequestBody != nil {
			want = append(want, "400", "413", "415")
		}
		for _, p := range o.op.Parameters {
			if p.Value.In == "query" {
				want = append(want, "400")
			}
		}
		if strings.Contains(o.path, "{id}") {
			want = append(want, "404")
		}
		// Invoices take If-Match and Idempotency-Key; webhook endpoints, the
		// notification context's configuration, do not.
		invoices := strings.HasPrefix(o.path, "/v1/invoices")
		if method == http.MethodPost || method == http.MethodDelete {
			if strings.Contains(o.path, "{id}") && invoices {
				want = append(want, "412")
				if !hasParam(o.op, item, "header", "If-Match") {
					t.Errorf("%s: no If-Match parameter", o.key)
				}
			}
			want = append(want, "409")
		}
		if method == http.MethodPost && invoices && !hasParam(o.op, item, "header", "Idempotency-Key") {
			t.Errorf("%s: no Idempotency-Key parameter", o.key)
		}
		if !hasParam(o.op, item, "header", "X-Request-Id") {
			t.Errorf("%s: no X-Request-Id parameter", o.key)
		}
		for _, code := range want {
			if o.op.Responses.Value(code) == nil {
				t.Errorf("%s: no %s response", o.key, code)
			}
		}
		// Every response carrying an invoice carries its ETag.
		for _, code := range statuses(o.op) {
			resp := o.op.Responses.Value(code).Value
			media := resp.Content.Get("application/json")
			if media == nil || media.Schema.Ref != "#/components/schemas/Invoice" {
				continue
			}
			if h := resp.Headers["ETag"]; h == nil || !h.Value.Required {
				t.Errorf("%s %s: invoice response without a required ETag", o.key, code)
			}
			if code == "201" {
				if h := resp.Headers["Location"]; h == nil || !h.Value.Required {
					t.Errorf("%s 201: no required Location", o.key)
				}
			}
		}
	}
	if o := doc.Paths.Value("/v1/invoices/{id}").Get; o.Responses.Value("304") == nil ||
		!hasParam(o, doc.Paths.Value("/v1/invoices/{id}"), "header", "If-None-Match") {
		t.Error("GET /v1/invoices/{id}: no If-None-Match → 304")
	}
}

// contract validates requests and responses against the document the way the
// HTTP tests do, so these tests show that kin-openapi enforces the 3.1
// constructs the document relies on (type arrays, const, oneOf,
// unevaluatedProperties, additionalProperties: false).
type contract struct {
	t      *testing.T
	router routers.Router
}

func newContract(t *testing.T) contract {
	doc := loadSpec(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return contract{t: t, router: router}
}

var filterOptions = &openapi3filter.Options{
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	IncludeResponseStatus: true,
	MultiError:            true,
}

func (c contract) request(method, target, body string) *openapi3filter.RequestValidationInput {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://localhost:8080"+target, r)
	req.Header.Set("Authorization", "Bearer inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s: no route: %v", method, target, err)
	}
	return &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: filterOptions}
}

func (c contract) validateRequest(method, target, body string) error {
	c.t.Helper()
	return openapi3filter.ValidateRequest(context.Background(), c.request(method, target, body))
}

func (c contract) validateResponse(method, target string, status int, header http.Header, body []byte) error {
	c.t.Helper()
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: c.request(method, target, ""),
		Status:                 status,
		Header:                 header,
		Options:                filterOptions,
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// TestRequestsReachTheService checks that request schemas hold types and
// closed objects only: a well-typed request that breaks a value rule must
// reach the service, whose 422 problem names the field.
func TestRequestsReachTheService(t *testing.T) {
	c := newContract(t)
	const inv = "/v1/invoices/0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d30"
	tests := []struct {
		name, method, target, body string
		wantErr                    bool
	}{
		{"negative quantity", "POST", "/v1/invoices",
			`{"customer":{"name":"","email":"x"},"currency":"euro","due_date":"tomorrow","lines":[{"description":"","quantity":-1,"unit_amount":-5,"tax_rate_bps":20000}]}`, false},
		{"missing customer and currency", "POST", "/v1/invoices", `{}`, false},
		{"unknown field", "POST", "/v1/invoices", `{"currency":"EUR","discount":5}`, true},
		{"unknown line field", "POST", "/v1/invoices", `{"lines":[{"price":5}]}`, true},
		{"quantity of the wrong type", "POST", inv + "/lines", `{"description":"x","quantity":"ten","unit_amount":1}`, true},
		{"fractional amount", "POST", inv + "/payments", `{"amount":10.5,"reference":"r"}`, true},
		{"zero amount", "POST", inv + "/payments", `{"amount":0,"reference":"","currency":"USD"}`, false},
		{"blank reason", "POST", inv + "/void", `{"reason":""}`, false},
		{"issue without body", "POST", inv + "/issue", ``, false},
		{"issue with empty object", "POST", inv + "/issue", `{}`, false},
		{"issue with an option", "POST", inv + "/issue", `{"number":"INV-1"}`, true},
		{"limit out of range", "GET", "/v1/invoices?limit=0&status=bogus&starting_after=x", ``, false},
		{"limit not a number", "GET", "/v1/invoices?limit=ten", ``, true},
		{"feed", "GET", "/v1/events?after=-1&limit=5000&type=x", ``, false},
		{"malformed id", "GET", "/v1/invoices/not-a-uuid", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.validateRequest(tt.method, tt.target, tt.body)
			if err != nil {
				t.Logf("rejected: %.300s", strings.ReplaceAll(err.Error(), "\n", " "))
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
