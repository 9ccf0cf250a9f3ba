package apitest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// Problem is a problem+json body as the service writes it.
type Problem struct {
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

// HasField reports whether p names field in its errors.
func (p Problem) HasField(field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

// WantProblem checks that a response of status gotStatus, header and body is
// a problem+json of status and code, naming field in errors[] unless field
// is "", and returns it. It fails t if the status, the media type or the
// body's shape is wrong.
func WantProblem(t testing.TB, gotStatus int, header http.Header, body []byte, status int, code, field string) Problem {
	t.Helper()
	if gotStatus != status {
		t.Fatalf("status = %d, want %d; body: %s", gotStatus, status, body)
	}
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p Problem
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode problem: %v; body: %s", err, body)
	}
	if want := "urn:invoicing:problem:" + code; p.Type != want {
		t.Errorf("type = %q, want %q; body: %s", p.Type, want, body)
	}
	if p.Status != status || p.Title == "" || p.Detail == "" {
		t.Errorf("status %d, title %q, detail %q: want status %d and a title and detail", p.Status, p.Title, p.Detail, status)
	}
	if id := header.Get("X-Request-Id"); id == "" || p.RequestID != id {
		t.Errorf("request_id = %q, X-Request-Id = %q: want both, equal", p.RequestID, id)
	}
	if field != "" && !p.HasField(field) {
		t.Errorf("errors %+v do not name field %q", p.Errors, field)
	}
	return p
}
