package invoicinghttp_test

import (
	"bytes"
	"net/http"
	"testing"
)

// Responses are JSON, not HTML: text goes out as the client sent it, `<` as
// `<`, not `\u003c` (six bytes for one, which inflated the largest
// responses), and the feed serves the CloudEvent bytes NATS carries. nosniff
// keeps a browser from reading such a body as HTML.
func TestResponsesEscapeNoHTML(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	const text = "<b>R&D</b>"
	created := c.do(t, "POST", "/v1/invoices", c.keyA, map[string]any{
		"customer": map[string]string{"name": "ACME GmbH", "email": "billing@acme.example"},
		"currency": "EUR",
		"lines":    []map[string]any{{"description": text, "quantity": 1, "unit_amount": 1000}},
	})
	inv := wantInvoice(t, created, http.StatusCreated)
	for name, res := range map[string]response{
		"create":  created,
		"get":     c.do(t, "GET", "/v1/invoices/"+inv.ID, c.keyA, nil),
		"list":    c.do(t, "GET", "/v1/invoices", c.keyA, nil),
		"lines":   c.do(t, "GET", "/v1/invoices/"+inv.ID+"/lines", c.keyA, nil),
		"history": c.do(t, "GET", "/v1/invoices/"+inv.ID+"/events", c.keyA, nil),
	} {
		if !bytes.Contains(res.body, []byte(`"`+text+`"`)) {
			t.Errorf("%s: body does not carry %q as sent: %.300s", name, text, res.body)
		}
		if got := res.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", name, got)
		}
	}
}
