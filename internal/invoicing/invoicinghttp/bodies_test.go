package invoicinghttp_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/apitest"
)

// invoiceJSON is the invoice body; decoding it with unknown fields disallowed
// checks that the API sends no more than this.
type invoiceJSON struct {
	ID       string  `json:"id"`
	Number   *string `json:"number"`
	Status   string  `json:"status"`
	Currency string  `json:"currency"`
	Customer struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"customer"`
	Lines []struct {
		ID          string `json:"id"`
		Description string `json:"description"`
		Quantity    int64  `json:"quantity"`
		UnitAmount  int64  `json:"unit_amount"`
		TaxRateBPS  int64  `json:"tax_rate_bps"`
		Amount      int64  `json:"amount"`
	} `json:"lines"`
	LineCount  int   `json:"line_count"`
	Subtotal   int64 `json:"subtotal"`
	Tax        int64 `json:"tax"`
	Total      int64 `json:"total"`
	AmountPaid int64 `json:"amount_paid"`
	AmountDue  int64 `json:"amount_due"`
	// AmountCredited and RefundDue: see credit_notes_test.go.
	AmountCredited int64 `json:"amount_credited"`
	RefundDue      int64 `json:"refund_due"`
	Payments       []struct {
		ID         string `json:"id"`
		Amount     int64  `json:"amount"`
		Reference  string `json:"reference"`
		ReceivedAt string `json:"received_at"`
	} `json:"payments"`
	DueDate    *string `json:"due_date"`
	IssuedAt   *string `json:"issued_at"`
	PaidAt     *string `json:"paid_at"`
	VoidedAt   *string `json:"voided_at"`
	VoidReason *string `json:"void_reason"`
	Version    int64   `json:"version"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`

	Metadata              map[string]string `json:"metadata"`
	Overdue               bool              `json:"overdue"`
	OverdueAt             *string           `json:"overdue_at"`
	MarkedUncollectibleAt *string           `json:"marked_uncollectible_at"`
}

// wantInvoice checks status and content type and decodes the invoice.
func wantInvoice(t *testing.T, res response, status int) invoiceJSON {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d; body: %s", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var inv invoiceJSON
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&inv); err != nil {
		t.Fatalf("decode invoice: %v; body: %s", err, res.body)
	}
	return inv
}

// wantProblem checks that res is a problem+json of status and code, naming
// field in errors[] unless field is "" (see apitest.WantProblem).
func wantProblem(t *testing.T, res response, status int, code, field string) apitest.Problem {
	t.Helper()
	return apitest.WantProblem(t, res.status, res.header, res.body, status, code, field)
}
