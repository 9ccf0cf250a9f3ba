package invoicinghttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
)

// linePage is a page of GET /v1/invoices/{id}/lines.
type linePage struct {
	Data []struct {
		ID          string `json:"id"`
		Description string `json:"description"`
	} `json:"data"`
	HasMore bool `json:"has_more"`
}

// newDraftWith creates a draft of tenant key with n lines, "line 0" to "line n-1".
func (c *api) newDraftWith(t *testing.T, key string, n int) invoiceJSON {
	t.Helper()
	lines := make([]map[string]any, n)
	for i := range lines {
		lines[i] = map[string]any{"description": fmt.Sprint("line ", i), "quantity": 1, "unit_amount": 100}
	}
	return wantInvoice(t, c.do(t, "POST", "/v1/invoices", key, map[string]any{
		"customer": map[string]string{"name": "ACME GmbH", "email": "billing@acme.example"},
		"currency": "EUR", "lines": lines,
	}), http.StatusCreated)
}

// lines reads every line of the invoice, limit at a time, and returns their
// descriptions and the number of pages.
func (c *api) lines(t *testing.T, key, id string, limit int) (descriptions []string, pages int) {
	t.Helper()
	after := ""
	for more := true; more; pages++ {
		res := c.do(t, "GET", fmt.Sprintf("/v1/invoices/%s/lines?limit=%d%s", id, limit, after), key, nil)
		if res.status != http.StatusOK {
			t.Fatalf("lines: %d %s", res.status, res.body)
		}
		var p linePage
		if err := json.Unmarshal(res.body, &p); err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Data {
			descriptions = append(descriptions, l.Description)
		}
		if more = p.HasMore; more {
			after = "&starting_after=" + p.Data[len(p.Data)-1].ID
		}
	}
	return descriptions, pages
}

// An invoice of 25 lines: a list shows its first 10 and line_count 25; its
// lines read 10 at a time come in 3 pages, in order, each once.
func TestListLines200PagesThroughEveryLine(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraftWith(t, c.keyA, 25)
	if len(inv.Lines) != 25 || inv.LineCount != 25 {
		t.Fatalf("created with %d lines, line_count %d; want 25 and 25", len(inv.Lines), inv.LineCount)
	}
	want := make([]string, 25)
	for i := range want {
		want[i] = fmt.Sprint("line ", i)
	}

	got, pages := c.lines(t, c.keyA, inv.ID, 10)
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("read in %d pages: %q\nwant 3 pages of %q", pages, got, want)
	}
	if got, pages := c.lines(t, c.keyA, inv.ID, 100); !slices.Equal(got, want) || pages != 1 {
		t.Errorf("read in %d pages: %q, want 1", pages, got)
	}

	p, err := c.listPage(c.keyA, nil)
	if err != nil || len(p.Data) != 1 {
		t.Fatalf("list: %+v, %v", p, err)
	}
	var listed []string
	for _, l := range p.Data[0].Lines {
		listed = append(listed, l.Description)
	}
	if !slices.Equal(listed, want[:app.ListedLines]) || p.Data[0].LineCount != 25 {
		t.Errorf("listed with lines %q and line_count %d, want the first %d and 25", listed, p.Data[0].LineCount, app.ListedLines)
	}

	empty := c.newDraftWith(t, c.keyA, 0)
	if got, _ := c.lines(t, c.keyA, empty.ID, 10); len(got) != 0 {
		t.Errorf("lines of a draft without lines: %q", got)
	}
}

func TestListLines404(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraft(t, c.keyA)
	for _, path := range []string{
		"/v1/invoices/" + inv.ID + "/lines", // another tenant's
		"/v1/invoices/0190a0a0-0000-7000-8000-000000000000/lines",
		"/v1/invoices/not-an-id/lines",
	} {
		wantProblem(t, c.do(t, "GET", path, c.keyB, nil), http.StatusNotFound, "invoice_not_found", "")
	}
}

func TestListLines422(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newDraftWith(t, c.keyA, 3)
	other := c.newDraft(t, c.keyA)
	for _, cursor := range []string{other.Lines[0].ID, "0190a0a0-0000-7000-8000-000000000000", "not-an-id"} {
		wantProblem(t, c.do(t, "GET", "/v1/invoices/"+inv.ID+"/lines?starting_after="+cursor, c.keyA, nil),
			http.StatusUnprocessableEntity, "invalid_cursor", "starting_after")
	}
	for _, limit := range []string{"0", "101", "x"} {
		wantProblem(t, c.invalid().do(t, "GET", "/v1/invoices/"+inv.ID+"/lines?limit="+limit, c.keyA, nil),
			http.StatusUnprocessableEntity, "invalid_limit", "limit")
	}

	// A line removed since is no cursor any more.
	removed := inv.Lines[1].ID
	c.do(t, "DELETE", "/v1/invoices/"+inv.ID+"/lines/"+removed, c.keyA, nil)
	wantProblem(t, c.do(t, "GET", "/v1/invoices/"+inv.ID+"/lines?starting_after="+removed, c.keyA, nil),
		http.StatusUnprocessableEntity, "invalid_cursor", "starting_after")
}

// A draft whose lines were added and removed 3,500 times has 7,001 events,
// ~10 MB as CloudEvents: its history comes in pages under 8 MiB, each event
// once, in version order.
func TestInvoiceEvents200PagesStaySmall(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := c.newDraft(t, c.keyA)
	id, err := invoice.ParseID(draft.ID)
	if err != nil {
		t.Fatal(err)
	}
	const cycles = 3500
	_, err = c.invoices(t).Update(context.Background(), c.tenantOf(t, "Tenant A"), id, app.ChangeOptions{},
		func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
			now := app.SystemClock{}.Now()
			for range cycles {
				line, err := inv.AddLine(invoice.LineInput{Description: fourByte, Quantity: 1, UnitAmount: 1}, now)
				if err != nil {
					return app.Result{}, err
				}
				if err := inv.RemoveLine(line, now); err != nil {
					return app.Result{}, err
				}
			}
			return app.Result{}, nil
		})
	if err != nil {
		t.Fatal(err)
	}

	var versions []int64
	after := int64(0)
	for pages := 0; pages <= 2*cycles; pages++ {
		path := fmt.Sprintf("/v1/invoices/%s/events?after=%d", draft.ID, after)
		res := c.do(t, "GET", path, c.keyA, nil)
		wantSmall(t, "GET "+path, res)
		var p struct {
			Data    []cloudEvent `json:"data"`
			HasMore bool         `json:"has_more"`
		}
		if err := json.Unmarshal(res.body, &p); err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Data {
			versions = append(versions, e.InvoiceVersion)
		}
		if !p.HasMore || len(p.Data) == 0 {
			break
		}
		after = p.Data[len(p.Data)-1].InvoiceVersion
	}
	if len(versions) != 1+2*cycles {
		t.Fatalf("history of %d events, want %d", len(versions), 1+2*cycles)
	}
	for i, v := range versions {
		if v != int64(i+1) {
			t.Fatalf("event %d has version %d, want %d", i, v, i+1)
		}
	}

	wantProblem(t, c.do(t, "GET", "/v1/invoices/"+draft.ID+"/events?after=-1", c.keyA, nil),
		http.StatusUnprocessableEntity, "invalid_cursor", "after")
}

// A request's context ends at RequestTimeout, so its queries stop: with a
// timeout that has passed before the handler runs, a list fails instead of
// reading the database.
func TestListInvoices500AfterRequestTimeout(t *testing.T) {
	t.Parallel()
	c := newPostgresAPI(t)
	c.newDraft(t, c.keyA)
	a := app.New(invoicingpg.NewInvoices(c.db(t)), invoicingpg.NewAPIKeys(c.db(t)), invoicingpg.NewEvents(c.db(t)), app.SystemClock{})
	srv := httptest.NewServer(invoicinghttp.NewHandler(a, invoicinghttp.Config{Logger: slog.New(slog.DiscardHandler), RequestTimeout: time.Nanosecond}))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("GET", srv.URL+"/v1/invoices", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.keyA)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode < 500 {
		t.Fatalf("status %d after the request's timeout, want a 5xx", res.StatusCode)
	}
}
