package invoicinghttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// maxResponse is the size no response may reach, whatever the data.
const maxResponse = 8 << 20

// fourByte is a description of invoice.MaxDescription 4-byte characters.
var fourByte = strings.Repeat("😀", invoice.MaxDescription)

// tenantOf returns the tenant id of the API key's tenant.
func (c *api) tenantOf(t *testing.T, name string) kernel.TenantID {
	t.Helper()
	if c.memKeys != nil {
		id, ok := c.memKeys.TenantNamed(name)
		if !ok {
			t.Fatalf("no tenant %q", name)
		}
		return id
	}
	var id [16]byte
	if err := c.db(t).QueryRow(context.Background(), `SELECT id FROM tenants WHERE name = $1`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return kernel.TenantID(id)
}

// addLargest stores n issued invoices of tenant, each the largest the limits
// allow (invoice.MaxLines lines of invoice.MaxDescription 4-byte characters),
// with their created and issued events, through the repository: the HTTP
// path would take a 1 MB request each. It returns their ids.
func (c *api) addLargest(t *testing.T, tenant kernel.TenantID, n int) []string {
	t.Helper()
	repo := c.invoices(t)
	lines := make([]invoice.LineInput, invoice.MaxLines)
	for i := range lines {
		lines[i] = invoice.LineInput{Description: fourByte, Quantity: 1, UnitAmount: 100, TaxRateBPS: 2000}
	}
	ids := make([]string, 0, n)
	for i := range n {
		now := app.SystemClock{}.Now()
		inv, err := invoice.New(invoice.NewID(), tenant, "EUR",
			invoice.Customer{Name: "ACME", Email: "billing@acme.example"}, time.Time{}, lines, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := inv.Issue(fmt.Sprintf("INV-2026-%06d", i+1), now); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Add(context.Background(), inv, app.ChangeOptions{}, app.Result{}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inv.ID().String())
	}
	return ids
}

// wantSmall fails the test if a response body reaches maxResponse.
func wantSmall(t *testing.T, what string, res response) {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("%s: status %d: %.300s", what, res.status, res.body)
	}
	if len(res.body) >= maxResponse {
		t.Fatalf("%s: a %d-byte response, want < %d", what, len(res.body), maxResponse)
	}
}

// cursor returns a feed cursor as the next request passes it: the decimal
// digits, whether the page sent a number or a string.
func cursor(raw json.RawMessage) string { return strings.Trim(string(raw), `"`) }

// The largest invoices the limits allow, 24 of them with 48 events: every
// page of the list and of the feed stays under 8 MiB at the largest limit,
// and paging reaches every invoice and every event exactly once.
func TestPages200StaySmall(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	const n = 24
	ids := c.addLargest(t, c.tenantOf(t, "Tenant A"), n)

	res := c.do(t, "GET", "/v1/invoices/"+ids[0], c.keyA, nil)
	wantSmall(t, "GET /v1/invoices/{id}", res)
	if inv := wantInvoice(t, res, http.StatusOK); len(inv.Lines) != invoice.MaxLines || inv.LineCount != invoice.MaxLines {
		t.Errorf("GET /v1/invoices/{id}: %d lines, line_count %d; want all %d", len(inv.Lines), inv.LineCount, invoice.MaxLines)
	}

	seen := map[string]int{}
	query := url.Values{"limit": {"100"}}
	for pages := 0; ; pages++ {
		res := c.do(t, "GET", "/v1/invoices?"+query.Encode(), c.keyA, nil)
		wantSmall(t, "GET /v1/invoices?"+query.Encode(), res)
		var p page
		if err := json.Unmarshal(res.body, &p); err != nil {
			t.Fatal(err)
		}
		for _, inv := range p.Data {
			seen[inv.ID]++
			if inv.LineCount != invoice.MaxLines || len(inv.Lines) > app.ListedLines {
				t.Errorf("invoice %s in a list: %d lines, line_count %d; want at most %d, line_count %d",
					inv.ID, len(inv.Lines), inv.LineCount, app.ListedLines, invoice.MaxLines)
			}
		}
		if !p.HasMore || len(p.Data) == 0 || pages > n {
			break
		}
		query.Set("starting_after", p.Data[len(p.Data)-1].ID)
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("invoice %s listed %d times, want once", id, seen[id])
		}
	}

	// The feed serves an event once no older transaction is running, in any
	// database of the server: a test of another package holding one open
	// delays the rest, so an empty page waits briefly rather than ending.
	events := map[string]int{}
	after := "0"
	deadline := time.Now().Add(30 * time.Second)
	for len(events) < 2*n && time.Now().Before(deadline) {
		res := c.do(t, "GET", "/v1/events?limit=1000&after="+after, c.keyA, nil)
		wantSmall(t, "GET /v1/events?limit=1000&after="+after, res)
		var p struct {
			Data      []cloudEvent    `json:"data"`
			NextAfter json.RawMessage `json:"next_after"`
		}
		if err := json.Unmarshal(res.body, &p); err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Data {
			events[e.ID]++
		}
		if len(p.Data) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
		after = cursor(p.NextAfter)
	}
	if len(events) != 2*n {
		t.Errorf("the feed served %d distinct events, want %d", len(events), 2*n)
	}
	for id, k := range events {
		if k != 1 {
			t.Errorf("event %s served %d times, want once", id, k)
		}
	}
}
