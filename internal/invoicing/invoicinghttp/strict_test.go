package invoicinghttp_test

import (
	"net/http"
	"testing"
)

// A body that two JSON readers could read differently is refused, so that a
// gateway's validator and this service never act on different values: a
// repeated member (one reader keeps the first, another the last), a member
// spelled in another case (a case-insensitive reader takes "Currency" for
// "currency"), and text that is not UTF-8 (a lenient reader stores U+FFFD in
// its place). Each is a 400 naming the member, on every route that takes a
// body, and writes nothing. (POST .../issue takes only {}, so any member of
// its body is already an unknown_field.)
func TestAmbiguousBody400(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := c.newDraft(t, c.keyA)
	open := c.newOpen(t, c.keyA)
	draftBefore, openBefore := c.get(t, c.keyA, draft.ID), c.get(t, c.keyA, open.ID)
	before := c.tally(t)

	const line = `{"description":"Work","quantity":1,"unit_amount":100}`
	create := func(members string) string { return `{` + validCustomer + `,` + members + `}` }
	lines, pay, void := "/v1/invoices/"+draft.ID+"/lines", "/v1/invoices/"+open.ID+"/payments", "/v1/invoices/"+open.ID+"/void"
	tests := []struct {
		name, path, body, code, field string
	}{
		{"create: repeated member", "/v1/invoices", create(`"currency":"EUR","currency":"USD"`), "duplicate_field", "currency"},
		{"create: repeated customer member", "/v1/invoices",
			`{"customer":{"name":"ACME","email":"billing@acme.example","email":"ceo@acme.example"},"currency":"EUR"}`, "duplicate_field", "customer.email"},
		{"create: repeated line member", "/v1/invoices",
			create(`"currency":"EUR","lines":[` + line + `,{"description":"Work","quantity":1,"unit_amount":100,"quantity":1000}]`), "duplicate_field", "lines[1].quantity"},
		{"create: member in another case", "/v1/invoices", create(`"currency":"EUR","Currency":"USD"`), "unknown_field", "Currency"},
		{"create: customer member in another case", "/v1/invoices",
			`{"customer":{"name":"ACME","Email":"billing@acme.example"},"currency":"EUR"}`, "unknown_field", "customer.Email"},
		{"create: line member in another case", "/v1/invoices",
			create(`"currency":"EUR","lines":[{"description":"Work","QUANTITY":1,"unit_amount":100}]`), "unknown_field", "lines[0].QUANTITY"},
		{"create: invalid UTF-8 in a line", "/v1/invoices",
			create(`"currency":"EUR","lines":[{"description":"Caf` + "\xe9" + `","quantity":1,"unit_amount":100}]`), "malformed_json", "lines[0].description"},
		{"create: lone surrogate in the customer", "/v1/invoices",
			`{"customer":{"name":"ACME \udc00","email":"billing@acme.example"},"currency":"EUR"}`, "malformed_json", "customer.name"},

		{"add line: repeated member", lines, `{"description":"Work","quantity":1,"unit_amount":100,"unit_amount":1}`, "duplicate_field", "unit_amount"},
		{"add line: member in another case", lines, `{"description":"Work","quantity":1,"Unit_Amount":100}`, "unknown_field", "Unit_Amount"},
		{"add line: invalid UTF-8", lines, `{"description":"` + "\xff\xfe" + `","quantity":1,"unit_amount":100}`, "malformed_json", "description"},

		{"pay: repeated member", pay, `{"amount":100,"reference":"psp-1","amount":12000}`, "duplicate_field", "amount"},
		{"pay: member in another case", pay, `{"amount":100,"Reference":"psp-1"}`, "unknown_field", "Reference"},
		{"pay: invalid UTF-8", pay, `{"amount":100,"reference":"psp-` + "\xc0\xaf" + `"}`, "malformed_json", "reference"},

		{"void: repeated member", void, `{"reason":"duplicate","reason":"fraud"}`, "duplicate_field", "reason"},
		{"void: member in another case", void, `{"Reason":"duplicate"}`, "unknown_field", "Reason"},
		{"void: invalid UTF-8", void, `{"reason":"` + "\xed\xa0\x80" + `"}`, "malformed_json", "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblem(t, c.invalid().do(t, "POST", tt.path, c.keyA, tt.body), http.StatusBadRequest, tt.code, tt.field)
		})
	}
	if n := c.tally(t); n != before {
		t.Errorf("rejected bodies wrote rows (invoices, lines, payments, outbox, keys): %v, want %v", n, before)
	}
	c.wantUnchanged(t, c.keyA, draftBefore)
	c.wantUnchanged(t, c.keyA, openBefore)
}

// A due date is a calendar date from 2000-01-01 to 9999-12-31. Before, year 1
// (Go's zero time) was read as "no due date" and year 0 was stored as 1 BC.
func TestCreateInvoiceDueDate(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	create := func(due string) map[string]any {
		return map[string]any{"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR", "due_date": due}
	}
	empty := c.tally(t)
	for _, due := range []string{"0001-01-01", "0000-01-01", "1999-12-31", "2026-02-29", "2026-12-31T00:00:00Z", " 2026-12-31", "+2026-12-31"} {
		t.Run("422 "+due, func(t *testing.T) {
			wantProblem(t, c.do(t, "POST", "/v1/invoices", c.keyA, create(due)), http.StatusUnprocessableEntity, "invalid_due_date", "due_date")
		})
	}
	if n := c.tally(t); n != empty {
		t.Fatalf("rejected due dates wrote rows (invoices, lines, payments, outbox, keys): %v", n)
	}
	for _, due := range []string{"2000-01-01", "2028-02-29", "9999-12-31"} {
		t.Run("201 "+due, func(t *testing.T) {
			inv := wantInvoice(t, c.do(t, "POST", "/v1/invoices", c.keyA, create(due)), http.StatusCreated)
			if got := c.get(t, c.keyA, inv.ID); got.DueDate == nil || *got.DueDate != due {
				t.Errorf("due_date %v, want %s", got.DueDate, due)
			}
		})
	}
}

// A body of null is not the JSON object every route takes (the contract says
// object; issue and mark_uncollectible take none or {}): a 400 wrong_type
// that changes nothing. Before, null was read as {}: a PATCH of null, which
// RFC 7396 reads as "remove the invoice", was a 200, and null issued and wrote
// off invoices.
func TestNullBody400(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := c.newDraft(t, c.keyA)
	open := c.newOpen(t, c.keyA)
	before := c.tally(t)
	for _, r := range []struct{ method, path string }{
		{"POST", "/v1/invoices"},
		{"PATCH", "/v1/invoices/" + draft.ID},
		{"POST", "/v1/invoices/" + draft.ID + "/lines"},
		{"POST", "/v1/invoices/" + draft.ID + "/issue"},
		{"POST", "/v1/invoices/" + open.ID + "/payments"},
		{"POST", "/v1/invoices/" + open.ID + "/void"},
		{"POST", "/v1/invoices/" + open.ID + "/mark_uncollectible"},
		{"POST", "/v1/invoices/" + open.ID + "/credit_notes"},
	} {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			wantProblem(t, c.invalid().do(t, r.method, r.path, c.keyA, "null"), http.StatusBadRequest, "wrong_type", "")
		})
	}
	if n := c.tally(t); n != before {
		t.Errorf("null bodies wrote rows (invoices, lines, payments, outbox, keys): %v, want %v", n, before)
	}
	c.wantUnchanged(t, c.keyA, draft)
	c.wantUnchanged(t, c.keyA, open)
}
