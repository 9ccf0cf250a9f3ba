package main

import (
	"context"
	"net/http"
	"testing"

	goclient "github.com/invoicing-dev/invoicing/client"
)

// TestGoClientAgainstServe: the generated Go client (/client; named
// goclient here beside the tests' own client type), pointed at
// the real serve, creates, issues and pays an invoice, and reads each
// documented answer into its type, a 422 problem included.
func TestGoClientAgainstServe(t *testing.T) {
	base, keys, stop := startNotifyingServe(t, nil, "acme")
	defer stop()
	c, err := goclient.NewClientWithResponses(base, goclient.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+keys["acme"])
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ptr := func(s string) *string { return &s }
	n := func(v int64) *int64 { return &v }
	created, err := c.CreateInvoiceWithResponse(ctx, nil, goclient.CreateInvoiceJSONRequestBody{
		Currency: ptr("EUR"), Customer: &goclient.CustomerInput{Name: ptr("Ada"), Email: ptr("ada@example.com")},
		Lines: &[]goclient.LineInput{{Description: ptr("Consulting"), Quantity: n(3), UnitAmount: n(2500)}},
	})
	if err != nil || created.JSON201 == nil {
		t.Fatalf("create: %v, %s %s", err, created.Status(), created.Body)
	}
	id := created.JSON201.Id.String()
	issued, err := c.IssueInvoiceWithResponse(ctx, id, nil, goclient.IssueInvoiceJSONRequestBody{})
	if err != nil || issued.JSON200 == nil || issued.JSON200.AmountDue != 7500 {
		t.Fatalf("issue: %v, %s %s", err, issued.Status(), issued.Body)
	}
	over, err := c.RecordPaymentWithResponse(ctx, id, nil, goclient.RecordPaymentJSONRequestBody{Amount: n(9999), Reference: ptr("psp_1")})
	if err != nil || over.ApplicationproblemJSON422 == nil {
		t.Fatalf("overpayment: %v, %s %s, want a 422 problem", err, over.Status(), over.Body)
	}
	paid, err := c.RecordPaymentWithResponse(ctx, id, nil, goclient.RecordPaymentJSONRequestBody{Amount: n(7500), Reference: ptr("psp_2")})
	if err != nil || paid.JSON200 == nil || paid.JSON200.Status != "paid" {
		t.Fatalf("pay: %v, %s %s", err, paid.Status(), paid.Body)
	}
}
