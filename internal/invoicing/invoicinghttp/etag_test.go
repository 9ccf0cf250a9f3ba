package invoicinghttp_test

import (
	"net/http"
	"testing"
)

func TestGetInvoice304IfNoneMatch(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)
	path := "/v1/invoices/" + inv.ID

	res := c.do(t, "GET", path, c.keyA, nil)
	if tag := res.header.Get("ETag"); tag != `"v1"` {
		t.Fatalf("ETag = %q, want \"v1\"", tag)
	}
	for _, inm := range []string{`"v1"`, `W/"v1"`, `"v7", "v1"`, `*`} {
		res := c.do(t, "GET", path, c.keyA, nil, "If-None-Match", inm)
		if res.status != http.StatusNotModified || len(res.body) != 0 || res.header.Get("ETag") != `"v1"` {
			t.Errorf("If-None-Match %s: %d %q ETag %q, want 304 without body", inm, res.status, res.body, res.header.Get("ETag"))
		}
	}
	wantInvoice(t, c.do(t, "GET", path, c.keyA, nil, "If-None-Match", `"v0"`), http.StatusOK)

	// Once the invoice changes, the old tag no longer matches.
	res = c.do(t, "POST", path+"/issue", c.keyA, nil)
	if wantInvoice(t, res, http.StatusOK); res.header.Get("ETag") != `"v2"` {
		t.Fatalf("ETag after issue = %q, want \"v2\"", res.header.Get("ETag"))
	}
	wantInvoice(t, c.do(t, "GET", path, c.keyA, nil, "If-None-Match", `"v1"`), http.StatusOK)
	// Another tenant learns nothing from a tag.
	wantProblem(t, c.do(t, "GET", path, c.keyB, nil, "If-None-Match", `"v2"`), http.StatusNotFound, "invoice_not_found", "")
}

func TestChangeInvoice412IfMatch(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := c.newDraft(t, c.keyA) // version 1
	open := c.newOpen(t, c.keyA)   // version 2
	tests := []struct {
		name, path string
		body       any
		inv        invoiceJSON
	}{
		{"add line", "/lines", map[string]any{"description": "x", "quantity": 1, "unit_amount": 1}, draft},
		{"issue", "/issue", nil, draft},
		{"pay", "/payments", map[string]any{"amount": 100, "reference": "r"}, open},
		{"void", "/void", map[string]any{"reason": "x"}, open},
	}
	// W/"v1" is the draft's current version, but If-Match compares strongly.
	for _, stale := range []string{`"v0"`, `W/"v1"`, `"v0", "v3"`, `not-a-tag`, `"1"`} {
		for _, tt := range tests {
			before := c.get(t, c.keyA, tt.inv.ID)
			events := c.eventsOf(t, tt.inv.ID, "")
			wantProblem(t, c.do(t, "POST", "/v1/invoices/"+tt.inv.ID+tt.path, c.keyA, tt.body, "If-Match", stale),
				http.StatusPreconditionFailed, "version_mismatch", "If-Match")
			c.wantUnchanged(t, c.keyA, before)
			if n := c.eventsOf(t, tt.inv.ID, ""); n != events {
				t.Errorf("%s with If-Match %s: %d events, want %d", tt.name, stale, n, events)
			}
		}
	}
	wantProblem(t, c.do(t, "DELETE", "/v1/invoices/"+draft.ID+"/lines/"+draft.Lines[0].ID, c.keyA, nil, "If-Match", `"v2"`),
		http.StatusPreconditionFailed, "version_mismatch", "If-Match")

	// The current tag, or "*", lets the change through; its response carries the new tag.
	res := c.do(t, "POST", "/v1/invoices/"+open.ID+"/payments", c.keyA, map[string]any{"amount": 100, "reference": "r"}, "If-Match", `"v2"`)
	if inv := wantInvoice(t, res, http.StatusOK); inv.Version != 3 || res.header.Get("ETag") != `"v3"` {
		t.Fatalf("pay with the current tag: version %d, ETag %q", inv.Version, res.header.Get("ETag"))
	}
	res = c.do(t, "DELETE", "/v1/invoices/"+draft.ID+"/lines/"+draft.Lines[0].ID, c.keyA, nil, "If-Match", `"v0", "v1"`)
	if inv := wantInvoice(t, res, http.StatusOK); len(inv.Lines) != 0 || res.header.Get("ETag") != `"v2"` {
		t.Fatalf("remove line with a list holding the current tag: %+v, ETag %q", inv, res.header.Get("ETag"))
	}
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+draft.ID+"/lines", c.keyA,
		map[string]any{"description": "y", "quantity": 1, "unit_amount": 1}, "If-Match", "*"), http.StatusCreated)
}
