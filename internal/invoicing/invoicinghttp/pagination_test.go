package invoicinghttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// page is a page of GET /v1/invoices.
type page struct {
	Data    []invoiceJSON `json:"data"`
	HasMore bool          `json:"has_more"`
}

// listPage reads one page of key's invoices with query.
func (c *api) listPage(key string, query url.Values) (page, error) {
	res, err := c.try("GET", "/v1/invoices?"+query.Encode(), key, nil)
	if err != nil {
		return page{}, err
	}
	var p page
	if res.status != http.StatusOK {
		return p, fmt.Errorf("GET /v1/invoices?%s: %d %s", query.Encode(), res.status, res.body)
	}
	return p, json.Unmarshal(res.body, &p)
}

// 250 invoices created while a reader pages through the list: the reader sees
// every invoice that existed when it began exactly once, and none twice.
func TestListInvoices200PagingWhileCreating(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	for range 40 {
		c.newDraft(t, c.keyA)
	}

	const writers, each = 5, 50
	created := make(chan error, writers)
	var made atomic.Int64 // invoices created so far
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				res, err := c.try("POST", "/v1/invoices", c.keyA, map[string]any{
					"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR",
				})
				if err == nil && res.status != http.StatusCreated {
					err = fmt.Errorf("create: %d %s", res.status, res.body)
				}
				if err != nil {
					created <- err
					return
				}
				made.Add(1)
			}
		})
	}
	t.Cleanup(wg.Wait)
	// progress waits until n more invoices were created (or all were), so
	// creation and paging interleave.
	progress := func(n int64) {
		target := min(made.Load()+n, writers*each)
		for made.Load() < target && len(created) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	progress(20)

	// The invoices that exist when paging begins: committed ones, read now.
	existing := map[string]bool{}
	for _, id := range c.invoiceIDs(t) {
		existing[id] = true
	}

	seen := map[string]bool{}
	var pages int
	query := url.Values{"limit": {"7"}}
	for {
		p, err := c.listPage(c.keyA, query)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, inv := range p.Data {
			if seen[inv.ID] {
				t.Fatalf("page %d repeats invoice %s", pages, inv.ID)
			}
			seen[inv.ID] = true
		}
		if !p.HasMore {
			break
		}
		query.Set("starting_after", p.Data[len(p.Data)-1].ID)
		progress(15)
	}
	wg.Wait()
	close(created)
	for err := range created {
		t.Fatal(err)
	}
	for id := range existing {
		if !seen[id] {
			t.Errorf("invoice %s existed when paging began but was skipped", id)
		}
	}
	if total := c.rows(t, "invoices"); total != 40+writers*each {
		t.Fatalf("%d invoices, want %d", total, 40+writers*each)
	}
	t.Logf("%d pages; saw %d invoices, %d existed at the start; %d were created after it began",
		pages, len(seen), len(existing), 40+writers*each-len(existing))
}

func TestListInvoices200Filters(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	other := wantInvoice(t, c.do(t, "POST", "/v1/invoices", c.keyA, map[string]any{
		"customer": map[string]string{"name": "Initech", "email": "ap@initech.example"}, "currency": "EUR",
	}), http.StatusCreated)
	var acme []string // newest first
	for range 3 {
		acme = append([]string{c.newDraft(t, c.keyA).ID}, acme...)
	}

	p, err := c.listPage(c.keyA, url.Values{"customer_email": {"billing@acme.example"}, "limit": {"2"}})
	if err != nil || len(p.Data) != 2 || !p.HasMore || p.Data[0].ID != acme[0] || p.Data[1].ID != acme[1] {
		t.Fatalf("first page of acme: %+v, %v", p, err)
	}
	p, err = c.listPage(c.keyA, url.Values{"customer_email": {"billing@acme.example"}, "limit": {"2"}, "starting_after": {acme[1]}})
	if err != nil || len(p.Data) != 1 || p.HasMore || p.Data[0].ID != acme[2] {
		t.Fatalf("second page of acme: %+v, %v", p, err)
	}
	p, err = c.listPage(c.keyA, url.Values{"customer_email": {"ap@initech.example"}, "status": {"draft"}})
	if err != nil || len(p.Data) != 1 || p.Data[0].ID != other.ID {
		t.Fatalf("initech drafts: %+v, %v", p, err)
	}

	// A cursor must be one of the tenant's invoices.
	foreign := c.newDraft(t, c.keyB)
	for _, cursor := range []string{foreign.ID, "0190a0a0-0000-7000-8000-000000000000", "not-an-id"} {
		wantProblem(t, c.do(t, "GET", "/v1/invoices?starting_after="+cursor, c.keyA, nil),
			http.StatusUnprocessableEntity, "invalid_cursor", "starting_after")
	}
}
