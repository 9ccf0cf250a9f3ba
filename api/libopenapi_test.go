package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/invoicing-dev/invoicing/api"
)

// TestLibopenapiValidatorEnforcesTheDocument runs the response cases through
// libopenapi-validator, the validator of the pb33f tools: the document as
// shipped must be one it enforces, not only one it accepts.
func TestLibopenapiValidatorEnforcesTheDocument(t *testing.T) {
	doc, err := libopenapi.NewDocument(api.OpenAPI)
	if err != nil {
		t.Fatalf("libopenapi cannot read openapi.yaml: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("libopenapi-validator cannot use openapi.yaml: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("document: %v", e)
		}
	}
	for _, tt := range responseCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.reqBody != "" {
				body = strings.NewReader(tt.reqBody)
			}
			req := httptest.NewRequest(tt.method, "http://localhost:8080"+tt.target, body)
			req.Header.Set("Authorization", "Bearer inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			if tt.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res := &http.Response{StatusCode: tt.status, Header: tt.header, Body: io.NopCloser(bytes.NewReader(tt.body)), Request: req}
			ok, errs := v.ValidateHttpResponse(req, res)
			for _, e := range errs {
				t.Logf("rejected: %.300s", strings.ReplaceAll(e.Error(), "\n", " "))
			}
			if ok == tt.wantErr {
				t.Errorf("valid = %v, want %v", ok, !tt.wantErr)
			}
		})
	}
}
