package invoicinghttp_test

import (
	"fmt"
	"net/http"
	"testing"
)

func TestPayInvoice409InvalidTransition(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)
	before := c.get(t, c.keyA, inv.ID)
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": 100, "reference": "r"}),
		http.StatusConflict, "invalid_transition", "")
	c.wantUnchanged(t, c.keyA, before)
}

func TestVoidInvoice409Paid(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": 12000, "reference": "r"}), http.StatusOK)
	before := c.get(t, c.keyA, inv.ID)
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/void", c.keyA, map[string]any{"reason": "oops"}),
		http.StatusConflict, "invalid_transition", "")
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/issue", c.keyA, nil), http.StatusConflict, "invalid_transition", "")
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/lines", c.keyA, map[string]any{"description": "x", "quantity": 1, "unit_amount": 1}),
		http.StatusConflict, "invalid_transition", "")
	c.wantUnchanged(t, c.keyA, before)
}

func TestPayInvoice409ReferenceConflict(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID + "/payments"
	wantInvoice(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 100, "reference": "psp-1"}), http.StatusOK)
	before := c.get(t, c.keyA, inv.ID)
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 200, "reference": "psp-1"}),
		http.StatusConflict, "payment_reference_conflict", "reference")
	c.wantUnchanged(t, c.keyA, before)
}

func TestCreateInvoice422(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	line := func(kv ...any) []map[string]any {
		l := map[string]any{"description": "Work", "quantity": 1, "unit_amount": 100}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(l, kv[i].(string))
				continue
			}
			l[kv[i].(string)] = kv[i+1]
		}
		return []map[string]any{l}
	}
	customer := map[string]string{"name": "ACME", "email": "billing@acme.example"}
	tests := []struct {
		name   string
		body   map[string]any
		code   string
		fields []string
	}{
		{"negative quantity", map[string]any{"customer": customer, "currency": "EUR", "lines": line("quantity", -1)}, "invalid_quantity", []string{"lines[0].quantity"}},
		{"bad currency", map[string]any{"customer": customer, "currency": "EURO"}, "invalid_currency", []string{"currency"}},
		{"lower-case currency", map[string]any{"customer": customer, "currency": "eur"}, "invalid_currency", []string{"currency"}},
		{"overflow", map[string]any{"customer": customer, "currency": "EUR", "lines": line("quantity", 1000000, "unit_amount", int64(9223372036854775807))}, "amount_overflow", []string{"lines[0].unit_amount"}},
		{"bad email", map[string]any{"customer": map[string]string{"name": "ACME", "email": "nope"}, "currency": "EUR"}, "invalid_customer", []string{"customer.email"}},
		{"address literal", map[string]any{"customer": map[string]string{"name": "ACME", "email": "a@[127.0.0.1]"}, "currency": "EUR"}, "invalid_customer", []string{"customer.email"}},
		{"localhost", map[string]any{"customer": map[string]string{"name": "ACME", "email": "root@localhost"}, "currency": "EUR"}, "invalid_customer", []string{"customer.email"}},
		{"single label", map[string]any{"customer": map[string]string{"name": "ACME", "email": "a@b"}, "currency": "EUR"}, "invalid_customer", []string{"customer.email"}},
		{"label with a leading hyphen", map[string]any{"customer": map[string]string{"name": "ACME", "email": "a@-x.com"}, "currency": "EUR"}, "invalid_customer", []string{"customer.email"}},
		{"bad due date", map[string]any{"customer": customer, "currency": "EUR", "due_date": "31/12/2026"}, "invalid_due_date", []string{"due_date"}},
		{"missing customer and currency", map[string]any{}, "missing_field", []string{"customer", "currency"}},
		{"missing line fields", map[string]any{"customer": customer, "currency": "EUR", "lines": line("description", nil, "quantity", nil, "unit_amount", nil)},
			"missing_field", []string{"lines[0].description", "lines[0].quantity", "lines[0].unit_amount"}},
		{"several bad lines", map[string]any{"customer": customer, "currency": "EUR", "lines": append(line("quantity", 0), line("tax_rate_bps", 10001)...)},
			"invalid_quantity", []string{"lines[0].quantity", "lines[1].tax_rate_bps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := wantProblem(t, c.do(t, "POST", "/v1/invoices", c.keyA, tt.body), http.StatusUnprocessableEntity, tt.code, "")
			for _, f := range tt.fields {
				if !p.HasField(f) {
					t.Errorf("errors %+v do not name %q", p.Errors, f)
				}
			}
		})
	}
	t.Cleanup(func() {
		if res := c.do(t, "GET", "/v1/invoices", c.keyA, nil); string(res.body) != emptyList {
			t.Errorf("list after rejected creates: %s", res.body)
		}
	})
}

func TestListInvoices422(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	for query, field := range map[string]string{
		"?status=overdue": "status", "?status=DRAFT": "status",
		"?limit=0": "limit", "?limit=101": "limit", "?limit=-1": "limit", "?limit=ten": "limit",
	} {
		code := "invalid_" + field
		client := c
		if query == "?limit=ten" { // not an integer: the contract forbids it
			client = c.invalid()
		}
		wantProblem(t, client.do(t, "GET", "/v1/invoices"+query, c.keyA, nil), http.StatusUnprocessableEntity, code, field)
	}
}

func TestAddLine422(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)
	before := c.get(t, c.keyA, inv.ID)
	path := "/v1/invoices/" + inv.ID + "/lines"
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"description": "x", "quantity": -1, "unit_amount": 1}),
		http.StatusUnprocessableEntity, "invalid_quantity", "quantity")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"description": "x", "quantity": 1000000, "unit_amount": int64(9223372036854775807)}),
		http.StatusUnprocessableEntity, "amount_overflow", "unit_amount")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"quantity": 1}), http.StatusUnprocessableEntity, "missing_field", "description")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"description": "x"}), http.StatusUnprocessableEntity, "missing_field", "unit_amount")
	c.wantUnchanged(t, c.keyA, before)
}

func TestPayInvoice422(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	before := c.get(t, c.keyA, inv.ID)
	path := "/v1/invoices/" + inv.ID + "/payments"
	tests := []struct {
		body        map[string]any
		code, field string
	}{
		{map[string]any{"amount": 12001, "reference": "r"}, "overpayment", "amount"},
		{map[string]any{"amount": 0, "reference": "r"}, "invalid_amount", "amount"},
		{map[string]any{"amount": 100, "reference": "r", "currency": "USD"}, "currency_mismatch", "amount"},
		{map[string]any{"amount": 100, "reference": "r", "currency": ""}, "invalid_currency", "currency"},
		{map[string]any{"amount": 100, "reference": " "}, "invalid_reference", "reference"},
		{map[string]any{"reference": "r"}, "missing_field", "amount"},
		{map[string]any{"amount": 100}, "missing_field", "reference"},
	}
	for _, tt := range tests {
		wantProblem(t, c.do(t, "POST", path, c.keyA, tt.body), http.StatusUnprocessableEntity, tt.code, tt.field)
	}
	c.wantUnchanged(t, c.keyA, before)
}

func TestVoidInvoice422(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	before := c.get(t, c.keyA, inv.ID)
	path := "/v1/invoices/" + inv.ID + "/void"
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{}), http.StatusUnprocessableEntity, "missing_field", "reason")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"reason": ""}), http.StatusUnprocessableEntity, "invalid_reason", "reason")
	c.wantUnchanged(t, c.keyA, before)
}

func TestIssueInvoice422Empty(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := wantInvoice(t, c.do(t, "POST", "/v1/invoices", c.keyA, map[string]any{
		"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR", "lines": []any{},
	}), http.StatusCreated)
	before := c.get(t, c.keyA, inv.ID)
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/issue", c.keyA, nil), http.StatusUnprocessableEntity, "empty_invoice", "lines")
	c.wantUnchanged(t, c.keyA, before)
}

// An invoice takes at most invoice.MaxPayments payments, so that one invoice,
// however it is paid, stays a small response and a small row set to load;
// the last must pay what is due, or the rest could never be paid.
func TestPayInvoice422TooManyPayments(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA) // 12000 due
	path := "/v1/invoices/" + inv.ID + "/payments"
	for i := range 99 {
		wantInvoice(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 1, "reference": fmt.Sprintf("psp-%d", i)}), http.StatusOK)
	}
	before := c.get(t, c.keyA, inv.ID)
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 1, "reference": "psp-99"}),
		http.StatusUnprocessableEntity, "too_many_payments", "amount")
	// A retry of a recorded payment is still the no-op it always was.
	wantInvoice(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 1, "reference": "psp-7"}), http.StatusOK)
	c.wantUnchanged(t, c.keyA, before)
	paid := wantInvoice(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 12000 - 99, "reference": "psp-99"}), http.StatusOK)
	if paid.Status != "paid" || len(paid.Payments) != 100 {
		t.Fatalf("payment 100 of what is due: status %s with %d payments", paid.Status, len(paid.Payments))
	}
}
