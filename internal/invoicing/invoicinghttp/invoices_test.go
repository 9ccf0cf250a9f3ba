package invoicinghttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestInvoiceLifecycle200(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	year := time.Now().UTC().Year()

	inv := c.newDraft(t, c.keyA)
	if inv.Status != "draft" || inv.Number != nil || inv.Total != 12000 || inv.Version != 1 {
		t.Fatalf("created %+v, want a draft without number, total 12000, version 1", inv)
	}
	path := "/v1/invoices/" + inv.ID

	res := c.do(t, "POST", path+"/lines", c.keyA, map[string]any{"description": "Travel", "quantity": 1, "unit_amount": 500})
	inv = wantInvoice(t, res, http.StatusCreated)
	if res.header.Get("Location") != path || len(inv.Lines) != 2 || inv.Total != 12500 || inv.Lines[1].TaxRateBPS != 0 {
		t.Fatalf("after add line: Location %q, %+v", res.header.Get("Location"), inv)
	}

	inv = wantInvoice(t, c.do(t, "DELETE", path+"/lines/"+inv.Lines[1].ID, c.keyA, nil), http.StatusOK)
	if len(inv.Lines) != 1 || inv.Total != 12000 || inv.Version != 3 {
		t.Fatalf("after remove line: %+v", inv)
	}

	inv = wantInvoice(t, c.do(t, "POST", path+"/issue", c.keyA, nil), http.StatusOK) // no body, no Content-Type
	if want := fmt.Sprintf("INV-%d-000001", year); inv.Status != "open" || inv.Number == nil || *inv.Number != want || inv.IssuedAt == nil {
		t.Fatalf("after issue: %+v, want open %s", inv, want)
	}

	inv = wantInvoice(t, c.do(t, "POST", path+"/payments", c.keyA, map[string]any{"amount": 2000, "reference": "tx-1"}), http.StatusOK)
	if inv.Status != "open" || inv.AmountPaid != 2000 || inv.AmountDue != 10000 || len(inv.Payments) != 1 || inv.PaidAt != nil {
		t.Fatalf("after partial payment: %+v", inv)
	}

	inv = wantInvoice(t, c.do(t, "POST", path+"/payments", c.keyA, map[string]any{"amount": 10000, "reference": "tx-2", "currency": "EUR"}), http.StatusOK)
	if inv.Status != "paid" || inv.AmountDue != 0 || inv.PaidAt == nil || len(inv.Payments) != 2 || inv.Version != 7 {
		t.Fatalf("after final payment: %+v", inv)
	}

	got := c.get(t, c.keyA, inv.ID)
	if got.Status != "paid" || got.Version != 7 || got.Payments[1].Reference != "tx-2" || got.Payments[1].Amount != 10000 {
		t.Fatalf("get: %+v", got)
	}

	// A second invoice gets the next number, then is voided.
	other := c.newDraft(t, c.keyA)
	opath := "/v1/invoices/" + other.ID
	other = wantInvoice(t, c.do(t, "POST", opath+"/issue", c.keyA, map[string]any{}), http.StatusOK)
	if want := fmt.Sprintf("INV-%d-000002", year); *other.Number != want {
		t.Fatalf("second number %s, want %s", *other.Number, want)
	}
	other = wantInvoice(t, c.do(t, "POST", opath+"/void", c.keyA, map[string]any{"reason": "duplicate"}), http.StatusOK)
	if other.Status != "void" || other.VoidedAt == nil || other.VoidReason == nil || *other.VoidReason != "duplicate" {
		t.Fatalf("after void: %+v", other)
	}
}

func TestCreateInvoice201(t *testing.T) {
	t.Parallel()
	c := newAPI(t)

	res := c.do(t, "POST", "/v1/invoices", c.keyA,
		`{"customer":{"name":"ACME","email":"billing@acme.example"},"currency":"JPY","due_date":"2026-12-31"}`,
		"Content-Type", "application/json; charset=utf-8")
	inv := wantInvoice(t, res, http.StatusCreated)
	if loc := res.header.Get("Location"); loc != "/v1/invoices/"+inv.ID {
		t.Errorf("Location = %q", loc)
	}
	if inv.Currency != "JPY" || inv.Customer.Name != "ACME" || inv.DueDate == nil || *inv.DueDate != "2026-12-31" || inv.Total != 0 {
		t.Errorf("created %+v", inv)
	}

	// The exact shape: every key present, nulls and empty arrays as specified.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(c.do(t, "GET", "/v1/invoices/"+inv.ID, c.keyA, nil).body, &raw); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := strings.Fields("amount_credited amount_due amount_paid created_at currency customer due_date id issued_at line_count lines marked_uncollectible_at metadata number overdue overdue_at paid_at payments refund_due status subtotal tax total updated_at version void_reason voided_at")
	if !slices.Equal(keys, want) {
		t.Errorf("keys = %v\nwant   %v", keys, want)
	}
	for k, v := range map[string]string{"lines": "[]", "line_count": "0", "payments": "[]", "number": "null", "issued_at": "null", "paid_at": "null", "voided_at": "null", "void_reason": "null",
		"metadata": "{}", "overdue": "false", "overdue_at": "null", "marked_uncollectible_at": "null"} {
		if string(raw[k]) != v {
			t.Errorf("%s = %s, want %s", k, raw[k], v)
		}
	}
	for _, k := range []string{"created_at", "updated_at"} {
		var s string
		_ = json.Unmarshal(raw[k], &s)
		if ts, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, "Z") || time.Since(ts) > time.Minute {
			t.Errorf("%s = %s: want a recent RFC 3339 UTC time (%v)", k, s, err)
		}
	}
}

func TestListInvoices200(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := c.newDraft(t, c.keyA)
	open := c.newOpen(t, c.keyA)

	list := func(query string) []invoiceJSON {
		t.Helper()
		res := c.do(t, "GET", "/v1/invoices"+query, c.keyA, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", query, res.status, res.body)
		}
		var body struct{ Data []invoiceJSON }
		if err := json.Unmarshal(res.body, &body); err != nil || body.Data == nil {
			t.Fatalf("GET %s: %v, body %s", query, err, res.body)
		}
		return body.Data
	}
	ids := func(invs []invoiceJSON) []string {
		var out []string
		for _, inv := range invs {
			out = append(out, inv.ID)
		}
		return out
	}

	if got := ids(list("")); !slices.Equal(got, []string{open.ID, draft.ID}) {
		t.Errorf("all = %v, want newest first [%s %s]", got, open.ID, draft.ID)
	}
	if got := ids(list("?status=draft")); !slices.Equal(got, []string{draft.ID}) {
		t.Errorf("status=draft: %v", got)
	}
	if got := list("?status=paid"); len(got) != 0 {
		t.Errorf("status=paid: %v, want none", got)
	}
	if got := ids(list("?limit=1")); !slices.Equal(got, []string{open.ID}) {
		t.Errorf("limit=1: %v", got)
	}
}

func TestPayInvoice200IdempotentReplay(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID + "/payments"
	payment := map[string]any{"amount": 5000, "reference": "psp-42"}

	first := wantInvoice(t, c.do(t, "POST", path, c.keyA, payment), http.StatusOK)
	before := c.get(t, c.keyA, inv.ID)
	again := wantInvoice(t, c.do(t, "POST", path, c.keyA, payment), http.StatusOK)
	if again.Version != first.Version || len(again.Payments) != 1 || again.AmountPaid != 5000 {
		t.Errorf("replay: %+v, want version %d and one payment", again, first.Version)
	}
	c.wantUnchanged(t, c.keyA, before)
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)

	res := c.do(t, "GET", "/v1/invoices/"+inv.ID, c.keyA, nil, "X-Request-Id", "trace-abc-123")
	if got := res.header.Get("X-Request-Id"); got != "trace-abc-123" {
		t.Errorf("sane X-Request-Id echoed as %q", got)
	}
	for _, bad := range []string{strings.Repeat("x", 129), "has space", "tab\there"} {
		res := c.do(t, "GET", "/v1/invoices/"+inv.ID, c.keyA, nil, "X-Request-Id", bad)
		if got := res.header.Get("X-Request-Id"); got == bad || len(got) != 36 {
			t.Errorf("X-Request-Id %q answered with %q, want a fresh UUID", bad, got)
		}
	}

	// One access line per request, with the route pattern and the request id.
	var found bool
	for _, line := range splitLines(c.logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["request_id"] == "trace-abc-123" {
			found = rec["msg"] == "request" && rec["route"] == "/v1/invoices/{id}" && rec["method"] == "GET" &&
				rec["status"] == float64(200) && rec["duration"] != nil
		}
	}
	if !found {
		t.Errorf("no access line for trace-abc-123 with route /v1/invoices/{id}; logs:\n%s", c.logs)
	}
}
