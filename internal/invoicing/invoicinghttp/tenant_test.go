package invoicinghttp_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestTenantIsolation404(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := c.newDraft(t, c.keyA)
	open := c.newOpen(t, c.keyA)
	beforeDraft, beforeOpen := c.get(t, c.keyA, draft.ID), c.get(t, c.keyA, open.ID)

	tests := []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/invoices/" + open.ID, nil},
		{"POST", "/v1/invoices/" + open.ID + "/payments", map[string]any{"amount": 100, "reference": "r"}},
		{"POST", "/v1/invoices/" + open.ID + "/void", map[string]any{"reason": "mine now"}},
		{"POST", "/v1/invoices/" + draft.ID + "/issue", nil},
		{"POST", "/v1/invoices/" + draft.ID + "/lines", map[string]any{"description": "x", "quantity": 1, "unit_amount": 1}},
		{"DELETE", "/v1/invoices/" + draft.ID + "/lines/" + draft.Lines[0].ID, nil},
		{"GET", "/v1/invoices/" + draft.ID + "/lines", nil},
		{"PATCH", "/v1/invoices/" + draft.ID, map[string]any{"metadata": map[string]any{"owner": "B"}}},
		{"PATCH", "/v1/invoices/" + open.ID, map[string]any{"metadata": map[string]any{"owner": "B"}}},
		{"POST", "/v1/invoices/" + open.ID + "/mark_uncollectible", nil},
		{"POST", "/v1/invoices/" + open.ID + "/credit_notes", map[string]any{"amount": 100, "reason": "duplicate"}},
		{"GET", "/v1/invoices/" + open.ID + "/credit_notes", nil},
	}
	for _, tt := range tests {
		wantProblem(t, c.do(t, tt.method, tt.path, c.keyB, tt.body), http.StatusNotFound, "invoice_not_found", "")
	}
	res := c.do(t, "GET", "/v1/invoices", c.keyB, nil)
	var list struct{ Data []invoiceJSON }
	if err := json.Unmarshal(res.body, &list); err != nil || res.status != http.StatusOK || len(list.Data) != 0 {
		t.Errorf("tenant B lists %d %s, want none", res.status, res.body)
	}
	c.wantUnchanged(t, c.keyA, beforeDraft)
	c.wantUnchanged(t, c.keyA, beforeOpen)
}
