package invoicinghttp_test

import (
	"net/http"
	"strings"
	"testing"
)

const validCustomer = `"customer":{"name":"ACME","email":"billing@acme.example"}`

func TestCreateInvoice400(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	tests := []struct {
		name, body, code, field string
	}{
		{"malformed", `{"customer":`, "malformed_json", ""},
		{"syntax", `{"currency" "EUR"}`, "malformed_json", ""},
		{"unknown field", `{"currency":"EUR","bogus":1}`, "unknown_field", "bogus"},
		{"unknown nested field", `{` + validCustomer[:len(validCustomer)-1] + `,"phone":"1"},"currency":"EUR"}`, "unknown_field", "customer.phone"},
		{"wrong type", `{"currency":5}`, "wrong_type", "currency"},
		{"wrong type in a line", `{"lines":[{"quantity":"2"}]}`, "wrong_type", "lines[0].quantity"},
		{"wrong type in a later line", `{"lines":[{},{"tax_rate_bps":true}]}`, "wrong_type", "lines[1].tax_rate_bps"},
		{"unknown field named by a number", `{"customer":{"0":1}}`, "unknown_field", "customer.0"},
		{"unknown field with a slash", `{"lines":[{"a/b~c":1}]}`, "unknown_field", "lines[0].a/b~c"},
		{"not an object", `[]`, "wrong_type", ""},
		{"trailing data", `{"currency":"EUR"} {}`, "trailing_data", ""},
		{"trailing garbage", `{"currency":"EUR"}x`, "trailing_data", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantProblem(t, c.invalid().do(t, "POST", "/v1/invoices", c.keyA, tt.body), http.StatusBadRequest, tt.code, tt.field)
		})
	}
	t.Run("empty body", func(t *testing.T) {
		t.Parallel()
		wantProblem(t, c.invalid().do(t, "POST", "/v1/invoices", c.keyA, nil), http.StatusBadRequest, "malformed_json", "")
	})
}

func TestCreateInvoice400ChangesNothing(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	wantProblem(t, c.invalid().do(t, "POST", "/v1/invoices", c.keyA, `{`+validCustomer+`,"currency":"EUR","x":1}`), http.StatusBadRequest, "unknown_field", "x")
	if res := c.do(t, "GET", "/v1/invoices", c.keyA, nil); string(res.body) != emptyList {
		t.Errorf("list after rejected create: %s", res.body)
	}
}

func TestPayInvoice400(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	before := c.get(t, c.keyA, inv.ID)
	path := "/v1/invoices/" + inv.ID + "/payments"
	wantProblem(t, c.invalid().do(t, "POST", path, c.keyA, `{"amount":"100","reference":"r"}`), http.StatusBadRequest, "wrong_type", "amount")
	wantProblem(t, c.invalid().do(t, "POST", path, c.keyA, `{"amount":1.5,"reference":"r"}`), http.StatusBadRequest, "wrong_type", "amount")
	wantProblem(t, c.invalid().do(t, "POST", path, c.keyA, `{"amount":100,"reference":"r","tip":1}`), http.StatusBadRequest, "unknown_field", "tip")
	wantProblem(t, c.invalid().do(t, "POST", "/v1/invoices/"+inv.ID+"/issue", c.keyA, `{"force":true}`), http.StatusBadRequest, "unknown_field", "force")
	c.wantUnchanged(t, c.keyA, before)
}

func TestCreateInvoice413(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	body := `{"customer":{"name":"` + strings.Repeat("a", 1<<20) + `","email":"a@b.example"},"currency":"EUR"}`
	wantProblem(t, c.do(t, "POST", "/v1/invoices", c.keyA, body), http.StatusRequestEntityTooLarge, "payload_too_large", "")
	if res := c.do(t, "GET", "/v1/invoices", c.keyA, nil); string(res.body) != emptyList {
		t.Errorf("list after rejected create: %s", res.body)
	}
}

func TestCreateInvoice415(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	body := `{` + validCustomer + `,"currency":"EUR"}`
	for _, ct := range []string{"text/plain", "application/xml", "application/json; charset=latin1", "application/jsonx", ""} {
		t.Run(ct, func(t *testing.T) {
			t.Parallel()
			wantProblem(t, c.invalid().do(t, "POST", "/v1/invoices", c.keyA, body, "Content-Type", ct), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
		})
	}
	t.Run("issue with a body", func(t *testing.T) {
		t.Parallel()
		inv := c.newDraft(t, c.keyA)
		wantProblem(t, c.invalid().do(t, "POST", "/v1/invoices/"+inv.ID+"/issue", c.keyA, "{}", "Content-Type", "text/plain"), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
		c.wantUnchanged(t, c.keyA, c.get(t, c.keyA, inv.ID))
	})
}

func TestAPI401(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)
	before := c.get(t, c.keyA, inv.ID)
	routes := []struct{ method, path string }{
		{"GET", "/v1/invoices"},
		{"POST", "/v1/invoices"},
		{"GET", "/v1/invoices/" + inv.ID},
		{"POST", "/v1/invoices/" + inv.ID + "/issue"},
		{"POST", "/v1/invoices/" + inv.ID + "/lines"},
		{"DELETE", "/v1/invoices/" + inv.ID + "/lines/" + inv.Lines[0].ID},
		{"POST", "/v1/invoices/" + inv.ID + "/payments"},
		{"POST", "/v1/invoices/" + inv.ID + "/void"},
	}
	auths := map[string]string{
		"missing":      "",
		"unknown key":  "Bearer inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"not a key":    "Bearer hunter2",
		"other scheme": "Basic " + c.keyA,
		"no token":     "Bearer",
	}
	for _, r := range routes {
		for name, auth := range auths {
			res := c.do(t, r.method, r.path, "", "{}", "Authorization", auth)
			wantProblem(t, res, http.StatusUnauthorized, "unauthorized", "")
			if got := res.header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("%s %s (%s): WWW-Authenticate = %q", r.method, r.path, name, got)
			}
		}
	}
	c.wantUnchanged(t, c.keyA, before)
}

func TestAPI404(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)
	before := c.get(t, c.keyA, inv.ID)
	const unknown = "0190a0a0-0000-7000-8000-000000000000"
	tests := []struct {
		name, method, path, body, code string
	}{ // routes the contract lacks are sent with invalid()
		{"unknown id", "GET", "/v1/invoices/" + unknown, "", "invoice_not_found"},
		{"malformed id", "GET", "/v1/invoices/not-a-uuid", "", "invoice_not_found"},
		{"unknown id, pay", "POST", "/v1/invoices/" + unknown + "/payments", `{"amount":1,"reference":"r"}`, "invoice_not_found"},
		{"malformed id, issue", "POST", "/v1/invoices/123/issue", "", "invoice_not_found"},
		{"unknown line", "DELETE", "/v1/invoices/" + inv.ID + "/lines/" + unknown, "", "line_not_found"},
		{"malformed line", "DELETE", "/v1/invoices/" + inv.ID + "/lines/x", "", "line_not_found"},
		{"unknown route", "GET", "/v1/customers", "", "not_found"},
		{"unknown version", "GET", "/v2/invoices", "", "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body any
			if tt.body != "" {
				body = tt.body
			}
			client := c
			if tt.code == "not_found" {
				client = c.invalid()
			}
			wantProblem(t, client.do(t, tt.method, tt.path, c.keyA, body), http.StatusNotFound, tt.code, "")
		})
	}
	t.Cleanup(func() { c.wantUnchanged(t, c.keyA, before) })
}

func TestAPI405(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)
	tests := []struct{ method, path, allow string }{
		{"PUT", "/v1/invoices/" + inv.ID, "GET, PATCH"},
		{"DELETE", "/v1/invoices", "GET, POST"},
		{"GET", "/v1/invoices/" + inv.ID + "/payments", "POST"},
	}
	for _, tt := range tests {
		res := c.invalid().do(t, tt.method, tt.path, c.keyA, nil)
		wantProblem(t, res, http.StatusMethodNotAllowed, "method_not_allowed", "")
		if got := res.header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}
