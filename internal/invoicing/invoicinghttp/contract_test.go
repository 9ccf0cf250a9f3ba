package invoicinghttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	spec "github.com/invoicing-dev/invoicing/api" // the package name api is the tests' client type
)

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

// isContractError reports whether err is a contract violation of specTransport.
func isContractError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "contract: ")
}

// get returns the status and body of GET url; the exchange must follow
// api/openapi.yaml (see specTransport).
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

// specClient returns newSpecClient's client.
func specClient(t *testing.T, invalidRequest bool) *http.Client {
	t.Helper()
	contract, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return newSpecClient(contract, invalidRequest)
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
