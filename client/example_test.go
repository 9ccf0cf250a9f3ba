package client_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/invoicing-dev/invoicing/client"
)

// An invoice created, issued and paid in full, each answer checked for its
// documented status. INVOICING_URL and INVOICING_API_KEY (from
// `invoicing apikey create`) say which server and tenant.
func Example() {
	ctx := context.Background()
	c, err := client.NewClientWithResponses(os.Getenv("INVOICING_URL"),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+os.Getenv("INVOICING_API_KEY"))
			return nil
		}))
	if err != nil {
		fmt.Println(err)
		return
	}
	str := func(s string) *string { return &s }
	num := func(n int64) *int64 { return &n }
	created, err := c.CreateInvoiceWithResponse(ctx, nil, client.CreateInvoiceJSONRequestBody{
		Currency: str("EUR"),
		Customer: &client.CustomerInput{Name: str("Ada Lovelace"), Email: str("ada@example.com")},
		Lines:    &[]client.LineInput{{Description: str("Consulting"), Quantity: num(2), UnitAmount: num(7500)}},
	})
	if err != nil || created.JSON201 == nil {
		fmt.Println("create:", err, created.Status())
		return
	}
	id := created.JSON201.Id.String()
	issued, err := c.IssueInvoiceWithResponse(ctx, id, nil, client.IssueInvoiceJSONRequestBody{})
	if err != nil || issued.JSON200 == nil {
		fmt.Println("issue:", err, issued.Status())
		return
	}
	paid, err := c.RecordPaymentWithResponse(ctx, id, nil, client.RecordPaymentJSONRequestBody{
		Amount: num(issued.JSON200.AmountDue), Reference: str("psp_4711"),
	})
	if err != nil || paid.JSON200 == nil {
		fmt.Println("pay:", err, paid.Status())
		return
	}
	fmt.Println(*paid.JSON200.Number, paid.JSON200.Status)
}
