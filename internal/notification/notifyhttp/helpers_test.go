package notifyhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	spec "github.com/invoicing-dev/invoicing/api" // the package name api is the tests' client type
	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
)

// emptyList is the body of an empty page.
const emptyList = "{\"data\":[],\"has_more\":false}\n"

// api is the service's API as main composes it: the invoicing API with
// routes added to its /v1, on the real repositories, with an API key for
// each of two tenants. Its client checks every request and response
// against api/openapi.yaml (see specTransport).
type api struct {
	url        string
	keyA, keyB string
	pool       *pgxpool.Pool
	app        *app.App
	client     *http.Client
	loose      *http.Client // for invalid(): checks responses only
}

// serve creates the two tenants' keys and serves the invoicing API on
// pool with routes added to /v1.
func serve(t *testing.T, pool *pgxpool.Pool, routes func(chi.Router, *invoicinghttp.Host)) *api {
	t.Helper()
	ctx := context.Background()
	a := app.New(invoicingpg.NewInvoices(pool), invoicingpg.NewAPIKeys(pool), invoicingpg.NewEvents(pool), app.SystemClock{})
	keyA, _, err := a.CreateAPIKey.Handle(ctx, app.CreateAPIKey{TenantName: "Tenant A"})
	if err != nil {
		t.Fatalf("create key A: %v", err)
	}
	keyB, _, err := a.CreateAPIKey.Handle(ctx, app.CreateAPIKey{TenantName: "Tenant B"})
	if err != nil {
		t.Fatalf("create key B: %v", err)
	}
	srv := httptest.NewServer(invoicinghttp.NewHandler(a, invoicinghttp.Config{Routes: routes}))
	t.Cleanup(srv.Close)
	contract, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return &api{url: srv.URL, keyA: keyA, keyB: keyB, pool: pool, app: a,
		client: newSpecClient(contract, false), loose: newSpecClient(contract, true)}
}

// tenantOf returns the tenant id of key.
func (c *api) tenantOf(t *testing.T, key string) string {
	t.Helper()
	tenant, err := c.app.Authenticate.Handle(t.Context(), app.Authenticate{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return tenant.String()
}

// invalid returns c for a request that breaks the contract on purpose (an
// unknown field, a wrong type or media type, an unknown route or method):
// only the response is checked, and it must be a documented problem.
func (c *api) invalid() *api {
	cp := *c
	cp.client = c.loose
	return &cp
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with key as bearer token ("" for none). body is nil (no
// body), a string (sent raw) or a value sent as JSON; either way Content-Type
// is application/json.
func (c *api) do(t *testing.T, method, path, key string, body any) response {
	t.Helper()
	res, err := c.try(method, path, key, body)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// try is do for goroutines other than the test's: it returns what do fails on.
func (c *api) try(method, path, key string, body any) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, fmt.Errorf("marshal body: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		return response{}, fmt.Errorf("new request: %w", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := c.client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}, nil
}

type problemJSON struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// wantProblem checks that res is a problem+json of status and code, naming
// field in errors[] unless field is "".
func wantProblem(t *testing.T, res response, status int, code, field string) problemJSON {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d; body: %s", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p problemJSON
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode problem: %v; body: %s", err, res.body)
	}
	if want := "urn:invoicing:problem:" + code; p.Type != want {
		t.Errorf("type = %q, want %q; body: %s", p.Type, want, res.body)
	}
	if p.Status != status || p.Title == "" || p.Detail == "" {
		t.Errorf("status %d, title %q, detail %q: want status %d and a title and detail", p.Status, p.Title, p.Detail, status)
	}
	if id := res.header.Get("X-Request-Id"); id == "" || p.RequestID != id {
		t.Errorf("request_id = %q, X-Request-Id = %q: want both, equal", p.RequestID, id)
	}
	if field != "" && !hasField(p, field) {
		t.Errorf("errors %+v do not name field %q", p.Errors, field)
	}
	return p
}

// hasField reports whether p names field in its errors.
func hasField(p problemJSON, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

// contract is api/openapi.yaml, loaded once, with a router to its operations.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not valid: %w", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml router: %w", err)
	}
	return &contract{doc: doc, router: router, opts: &openapi3filter.Options{
		// The service authenticates; the contract checks shapes.
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true, // an undocumented status is a failure
		MultiError:            true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			// Our ids are UUIDv7, which the RFC 4122 pattern rejects.
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
			openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
		},
	}}, nil
})

// specTransport sends requests through next and fails any exchange that
// breaks the contract, with an error from RoundTrip. Every request must be a
// documented operation with valid parameters and body, and every response
// must be documented for it, with its headers and body schema, unless
// invalidRequest is set: then the test sends what the spec forbids on purpose
// (a wrong type, an unknown field or route) and only the response is checked,
// which must be a documented problem (or, for a route the spec does not have,
// a 404 or 405 problem).
type specTransport struct {
	next           http.RoundTripper
	contract       *contract
	invalidRequest bool
}

// RoundTrip implements http.RoundTripper.
func (st *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	in, routeErr := st.contract.input(req, body)
	if !st.invalidRequest {
		if routeErr != nil {
			return nil, fmt.Errorf("contract: %s %s is not an operation of openapi.yaml: %w", req.Method, req.URL.Path, routeErr)
		}
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			return nil, fmt.Errorf("contract: request %s %s breaks openapi.yaml: %w", req.Method, req.URL.Path, err)
		}
	}
	res, err := st.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if err := st.contract.checkResponse(in, st.invalidRequest, res, resBody); err != nil {
		return nil, fmt.Errorf("contract: response %d to %s %s breaks openapi.yaml: %w", res.StatusCode, req.Method, req.URL.Path, err)
	}
	return res, nil
}

// input returns the validation input of req, or an error if the contract has
// no operation for it. It validates a copy addressed to the documented server,
// so the test server's address does not matter.
func (c *contract) input(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	v := req.Clone(req.Context())
	v.URL.Scheme, v.URL.Host, v.Host = "http", "localhost:8080", "localhost:8080"
	v.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(v)
	if err != nil {
		return nil, err
	}
	return &openapi3filter.RequestValidationInput{Request: v, PathParams: params, Route: route, Options: c.opts}, nil
}

// checkResponse validates a response to the request of in (nil: a route the
// contract lacks). kin-openapi does not validate a 304, so it is checked here:
// documented, with its headers, without a body.
func (c *contract) checkResponse(in *openapi3filter.RequestValidationInput, invalidRequest bool, res *http.Response, body []byte) error {
	if res.Header.Get("X-Request-Id") == "" {
		return errors.New("no X-Request-Id")
	}
	if in == nil {
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			return errors.New("an unknown route must be answered 404 or 405")
		}
		return c.checkProblem(res, body)
	}
	if invalidRequest && res.StatusCode < 400 {
		return errors.New("a request that breaks the contract must fail")
	}
	if res.StatusCode == http.StatusNotModified {
		if in.Route.Operation.Responses.Status(http.StatusNotModified) == nil {
			return errors.New("status is not documented")
		}
		if len(body) != 0 || res.Header.Get("ETag") == "" {
			return errors.New("a 304 needs an ETag and no body")
		}
		return nil
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Options: c.opts}
	out.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// checkProblem validates a problem+json response against the Problem schema.
func (c *contract) checkProblem(res *http.Response, body []byte) error {
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	opts := append([]openapi3.SchemaValidationOption{openapi3.EnableJSONSchema2020()}, c.opts.SchemaValidationOptions...)
	return c.doc.Components.Schemas["Problem"].Value.VisitJSON(v, opts...)
}

// newSpecClient returns a client whose every exchange is checked against the
// contract (see specTransport).
func newSpecClient(c *contract, invalidRequest bool) *http.Client {
	return &http.Client{Transport: &specTransport{next: http.DefaultTransport, contract: c, invalidRequest: invalidRequest}}
}
