package http_test

import (
	"net/http"
	"testing"
)

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
