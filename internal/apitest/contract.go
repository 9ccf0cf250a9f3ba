// Package apitest checks a test's HTTP exchanges with the service against
// its API document, api/openapi.yaml: a client whose every request and
// response must follow the document, and the checks the API tests of both
// contexts share (problem bodies, query parameters).
package apitest

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

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/invoicing-dev/invoicing/api"
)

// Contract is api/openapi.yaml, loaded once, with a router to its operations.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// LoadContract returns the API document, loaded and validated on the first
// call. It returns an error if the document does not load, is not valid
// OpenAPI or cannot be routed.
var LoadContract = sync.OnceValues(func() (*Contract, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
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
	return &Contract{doc: doc, router: router, opts: &openapi3filter.Options{
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

// Doc returns the loaded document.
func (c *Contract) Doc() *openapi3.T { return c.doc }

// Client returns a client whose every exchange is checked against the
// contract (see Transport).
func (c *Contract) Client(invalidRequest bool) *http.Client {
	return &http.Client{Transport: &Transport{Next: http.DefaultTransport, Contract: c, InvalidRequest: invalidRequest}}
}

// IsContractError reports whether err is a contract violation of Transport.
func IsContractError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "contract: ")
}

// Transport sends requests through Next and fails any exchange that breaks
// the contract, with an error from RoundTrip. Every request must be a
// documented operation with valid parameters and body, and every response
// must be documented for it, with its headers and body schema, unless
// InvalidRequest is set: then the test sends what the document forbids on
// purpose (a wrong type, an unknown field or route) and only the response is
// checked, which must be a documented problem (or, for a route the document
// does not have, a 404 or 405 problem).
type Transport struct {
	Next           http.RoundTripper
	Contract       *Contract
	InvalidRequest bool
}

// RoundTrip implements http.RoundTripper. It returns Next's error, or an
// error naming the broken rule if the exchange breaks the contract.
func (st *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	in, routeErr := st.Contract.input(req, body)
	if !st.InvalidRequest {
		if routeErr != nil {
			return nil, fmt.Errorf("contract: %s %s is not an operation of openapi.yaml: %w", req.Method, req.URL.Path, routeErr)
		}
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			return nil, fmt.Errorf("contract: request %s %s breaks openapi.yaml: %w", req.Method, req.URL.Path, err)
		}
	}
	res, err := st.Next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if err := st.Contract.checkResponse(in, st.InvalidRequest, res, resBody); err != nil {
		return nil, fmt.Errorf("contract: response %d to %s %s breaks openapi.yaml: %w", res.StatusCode, req.Method, req.URL.Path, err)
	}
	return res, nil
}

// input returns the validation input of req, or an error if the contract has
// no operation for it. It validates a copy addressed to the documented server,
// so the test server's address does not matter.
func (c *Contract) input(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
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
func (c *Contract) checkResponse(in *openapi3filter.RequestValidationInput, invalidRequest bool, res *http.Response, body []byte) error {
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
func (c *Contract) checkProblem(res *http.Response, body []byte) error {
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
