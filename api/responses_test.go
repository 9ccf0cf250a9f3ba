package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/api"
)

// responseCase is one response a server might give, and whether the document
// allows it. The same cases go through every validator a client team may
// use: kin-openapi here, libopenapi-validator and Prism's proxy beside.
type responseCase struct {
	name    string
	method  string
	target  string
	reqBody string // a valid request body for the operation, "" for none
	status  int
	header  http.Header
	body    []byte
	wantErr bool
}

// Valid request bodies of the operations the cases answer.
const (
	createBody  = `{"customer":{"name":"Acme Logistics GmbH","email":"billing@acme-logistics.example"},"currency":"EUR"}`
	paymentBody = `{"amount":100,"reference":"wire 2026-07-24"}`
)

// responseCases returns the cases: documented responses and ones that break
// the document by one thing each (an unknown or missing field, a wrong type,
// a missing header, an undocumented status).
func responseCases(t *testing.T) []responseCase {
	const get = "/v1/invoices/0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d30"
	invoiceHeaders := headers("Content-Type", "application/json", "ETag", `"v1"`, "X-Request-Id", "r1")
	problemHeaders := headers("Content-Type", "application/problem+json", "X-Request-Id", "r1")

	draft := example(t, "DraftInvoice")
	withExtra := example(t, "DraftInvoice")
	withExtra["discount"] = 0
	noNumber := example(t, "DraftInvoice")
	delete(noNumber, "number")
	badStatus := example(t, "DraftInvoice")
	badStatus["status"] = "cancelled"
	floatAmount := example(t, "DraftInvoice")
	floatAmount["total"] = 1844.5
	stringAmount := example(t, "DraftInvoice")
	stringAmount["total"] = "1844"
	badLine := example(t, "DraftInvoice")
	badLine["lines"].([]any)[0].(map[string]any)["tax"] = 22800

	problem := func(typ string) []byte {
		return mustJSON(t, map[string]any{"type": typ, "title": "Overpayment", "status": 422, "detail": "too much",
			"errors": []any{map[string]any{"field": "amount", "message": "too much"}}})
	}

	event := func(mutate func(map[string]any)) []byte {
		e := map[string]any{
			"specversion": "1.0", "id": "0197e5c3-0b45-7a01-9e22-3b4c5d6e7f04", "source": "/invoicing",
			"type": "invoicing.invoice.voided", "subject": "0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d30",
			"time": "2026-07-24T09:41:12.300123Z", "datacontenttype": "application/json",
			"tenantid": "0196f1d0-2c3b-7a4e-9b5c-6d7e8f9a0b1c", "sequence": "7", "invoiceversion": 3,
			"data": map[string]any{"invoice_id": "0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d30", "number": "INV-2026-000001",
				"reason": "duplicate", "voided_at": "2026-07-24T09:41:12.300123Z"},
		}
		if mutate != nil {
			mutate(e)
		}
		return mustJSON(t, map[string]any{"data": []any{e}, "next_after": 7})
	}
	jsonHeaders := headers("Content-Type", "application/json", "X-Request-Id", "r1")
	readyHeaders := headers("Content-Type", "application/json", "Cache-Control", "no-store", "X-Request-Id", "r1")
	const unavailable = `{"status":"unavailable","failing":["database"],"checks":{"database":{"status":"failed","reason":"unreachable"},` +
		`"nats":{"status":"skipped"},"outbox":{"status":"unknown"}}}`

	return []responseCase{
		{"draft invoice", "GET", get, "", 200, invoiceHeaders, mustJSON(t, draft), false},
		{"unknown field", "GET", get, "", 200, invoiceHeaders, mustJSON(t, withExtra), true},
		{"missing nullable field", "GET", get, "", 200, invoiceHeaders, mustJSON(t, noNumber), true},
		{"unknown status", "GET", get, "", 200, invoiceHeaders, mustJSON(t, badStatus), true},
		{"fractional amount", "GET", get, "", 200, invoiceHeaders, mustJSON(t, floatAmount), true},
		{"amount as a string", "GET", get, "", 200, invoiceHeaders, mustJSON(t, stringAmount), true},
		{"unknown line field", "GET", get, "", 200, invoiceHeaders, mustJSON(t, badLine), true},
		{"no ETag", "GET", get, "", 200, headers("Content-Type", "application/json", "X-Request-Id", "r1"), mustJSON(t, draft), true},
		{"no X-Request-Id", "GET", get, "", 200, headers("Content-Type", "application/json", "ETag", `"v1"`), mustJSON(t, draft), true},
		{"undocumented status", "GET", get, "", 418, problemHeaders, problem("urn:invoicing:problem:teapot"), true},
		{"304 without body", "GET", get, "", 304, headers("ETag", `"v1"`, "X-Request-Id", "r1"), nil, false},
		{"problem", "POST", get + "/payments", paymentBody, 422, problemHeaders, problem("urn:invoicing:problem:overpayment"), false},
		{"problem type not ours", "POST", get + "/payments", paymentBody, 422, problemHeaders, problem("about:blank"), true},
		{"problem as plain JSON", "POST", get + "/payments", paymentBody, 422, jsonHeaders, problem("urn:invoicing:problem:overpayment"), true},
		{"401 without WWW-Authenticate", "GET", get, "", 401, problemHeaders, problem("urn:invoicing:problem:unauthorized"), true},
		{"201 without Location", "POST", "/v1/invoices", createBody, 201, invoiceHeaders, mustJSON(t, draft), true},
		{"201", "POST", "/v1/invoices", createBody, 201,
			headers("Content-Type", "application/json", "ETag", `"v1"`, "X-Request-Id", "r1", "Location", get), mustJSON(t, draft), false},
		{"event", "GET", "/v1/events", "", 200, jsonHeaders, event(nil), false},
		{"event with correlationid", "GET", "/v1/events", "", 200, jsonHeaders,
			event(func(e map[string]any) { e["correlationid"] = "r1" }), false},
		{"event with unknown attribute", "GET", "/v1/events", "", 200, jsonHeaders,
			event(func(e map[string]any) { e["partition"] = 1 }), true},
		{"event data of another type", "GET", "/v1/events", "", 200, jsonHeaders,
			event(func(e map[string]any) { e["type"] = "invoicing.invoice.paid" }), true},
		{"event with unknown data field", "GET", "/v1/events", "", 200, jsonHeaders,
			event(func(e map[string]any) { e["data"].(map[string]any)["by"] = "x" }), true},
		{"event of another specversion", "GET", "/v1/events", "", 200, jsonHeaders,
			event(func(e map[string]any) { e["specversion"] = "0.3" }), true},
		{"event with the largest sequence", "GET", "/v1/events", "", 200, jsonHeaders,
			event(func(e map[string]any) { e["sequence"] = "9223372036854775807" }), false},
		{"event with a numeric sequence", "GET", "/v1/events", "", 200, jsonHeaders,
			event(func(e map[string]any) { e["sequence"] = 7 }), true},
		{"event with a sequence not in decimal form", "GET", "/v1/events", "", 200, jsonHeaders,
			event(func(e map[string]any) { e["sequence"] = "07" }), true},
		{"the document itself", "GET", "/v1/openapi.yaml", "", 200,
			headers("Content-Type", "application/yaml", "X-Request-Id", "r1"), api.OpenAPI, false},
		{"alive", "GET", "/healthz", "", 200, jsonHeaders, []byte(`{"status":"ok"}`), false},
		{"unavailable", "GET", "/readyz", "", 503, readyHeaders, []byte(unavailable), false},
		{"readiness without its checks", "GET", "/readyz", "", 200, readyHeaders, []byte(`{"status":"ready"}`), true},
		{"readiness with a count as a string", "GET", "/readyz", "", 200, readyHeaders,
			[]byte(`{"status":"ready","checks":{"outbox":{"status":"ok","parked":"0"}}}`), true},
		{"metrics", "GET", "/metrics", "", 200,
			headers("Content-Type", "text/plain; version=0.0.4; charset=utf-8", "X-Request-Id", "r1"), []byte("up 1\n"), false},
	}
}

func TestResponsesAreValidatedStrictly(t *testing.T) {
	c := newContract(t)
	for _, tt := range responseCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			err := c.validateResponse(tt.method, tt.target, tt.status, tt.header, tt.body)
			if err != nil {
				t.Logf("rejected: %.300s", strings.ReplaceAll(err.Error(), "\n", " "))
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

// example returns the value of components/examples/name as JSON-decoded data.
func example(t *testing.T, name string) map[string]any {
	t.Helper()
	ex := loadSpec(t).Components.Examples[name]
	if ex == nil {
		t.Fatalf("no example %s", name)
	}
	b, err := json.Marshal(ex.Value.Value)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}
