package invoicinghttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
)

func TestMarkUncollectible200KeepsPaymentsThenPaid(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID
	wantInvoice(t, c.do(t, "POST", path+"/payments", c.keyA, map[string]any{"amount": 5000, "reference": "p1"}), http.StatusOK)

	res := c.do(t, "POST", path+"/mark_uncollectible", c.keyA, nil, "If-Match", `"v3"`, "Idempotency-Key", "w1")
	got := wantInvoice(t, res, http.StatusOK)
	if got.Status != "uncollectible" || got.AmountPaid != 5000 || got.AmountDue != 7000 || got.MarkedUncollectibleAt == nil || got.Version != 4 {
		t.Fatalf("written off: %+v", got)
	}
	again := c.do(t, "POST", path+"/mark_uncollectible", c.keyA, nil, "Idempotency-Key", "w1")
	if again.status != http.StatusOK || string(again.body) != string(res.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %s", again.status, again.header)
	}
	wantProblem(t, c.do(t, "POST", path+"/mark_uncollectible", c.keyA, nil), http.StatusConflict, "invalid_transition", "")

	paid := wantInvoice(t, c.do(t, "POST", path+"/payments", c.keyA, map[string]any{"amount": 7000, "reference": "p2"}), http.StatusOK)
	if paid.Status != "paid" || paid.AmountDue != 0 || paid.MarkedUncollectibleAt == nil {
		t.Errorf("paid after the write-off: %+v", paid)
	}
	var hist struct{ Data []cloudEvent }
	if err := json.Unmarshal(c.do(t, "GET", path+"/events", c.keyA, nil).body, &hist); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range hist.Data {
		types = append(types, strings.TrimPrefix(e.Type, "invoicing.invoice."))
	}
	if fmt.Sprint(types) != "[created issued payment_recorded marked_uncollectible payment_recorded paid]" {
		t.Errorf("history %v", types)
	}
}

func TestMarkUncollectibleErrors(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := c.newDraft(t, c.keyA)
	open := c.newOpen(t, c.keyA)
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+draft.ID+"/mark_uncollectible", c.keyA, nil), http.StatusConflict, "invalid_transition", "")
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+open.ID+"/mark_uncollectible", c.keyA, nil, "If-Match", `"1"`), http.StatusPreconditionFailed, "version_mismatch", "If-Match")
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+open.ID+"/mark_uncollectible", c.keyB, nil), http.StatusNotFound, "invoice_not_found", "")
	wantProblem(t, c.invalid().do(t, "POST", "/v1/invoices/"+open.ID+"/mark_uncollectible", c.keyA, `{"now":true}`), http.StatusBadRequest, "unknown_field", "now")
	c.wantUnchanged(t, c.keyA, open)

	// Written off without payments, it can still be voided.
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+open.ID+"/mark_uncollectible", c.keyA, `{}`), http.StatusOK)
	voided := wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+open.ID+"/void", c.keyA, map[string]any{"reason": "bankrupt"}), http.StatusOK)
	if voided.Status != "void" || voided.MarkedUncollectibleAt == nil {
		t.Errorf("voided after the write-off: %+v", voided)
	}
}

func TestListInvoices200StatusUncollectible(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	c.newOpen(t, c.keyA)
	written := c.newOpen(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+written.ID+"/mark_uncollectible", c.keyA, nil), http.StatusOK)
	var page struct{ Data []invoiceJSON }
	if err := json.Unmarshal(c.do(t, "GET", "/v1/invoices?status=uncollectible", c.keyA, nil).body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].ID != written.ID || page.Data[0].MarkedUncollectibleAt == nil {
		t.Errorf("uncollectible invoices: %+v", page.Data)
	}
}

func TestCreateInvoice201Metadata(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := wantInvoice(t, c.do(t, "POST", "/v1/invoices", c.keyA, map[string]any{
		"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR",
		"metadata": map[string]any{"erp_order": "SO-4711", "empty": "", "null": nil},
	}), http.StatusCreated)
	if fmt.Sprint(inv.Metadata) != "map[erp_order:SO-4711]" {
		t.Errorf("metadata %v", inv.Metadata)
	}
	var hist struct {
		Data []struct {
			Data struct{ Metadata map[string]string } `json:"data"`
		}
	}
	if err := json.Unmarshal(c.do(t, "GET", "/v1/invoices/"+inv.ID+"/events", c.keyA, nil).body, &hist); err != nil || len(hist.Data) != 1 ||
		hist.Data[0].Data.Metadata["erp_order"] != "SO-4711" {
		t.Errorf("created event: %+v (%v)", hist, err)
	}

	tooMany := map[string]string{}
	for i := range 51 {
		tooMany[fmt.Sprint("k", i)] = "v"
	}
	for _, tt := range []struct {
		metadata any
		field    string
	}{
		{tooMany, "metadata"},
		{map[string]string{"k": strings.Repeat("v", 501)}, "metadata.k"},
		{map[string]string{strings.Repeat("k", 41): "v"}, "metadata." + strings.Repeat("k", 41)},
	} {
		wantProblem(t, c.do(t, "POST", "/v1/invoices", c.keyA, map[string]any{
			"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR", "metadata": tt.metadata,
		}), http.StatusUnprocessableEntity, "invalid_metadata", tt.field)
	}
	wantProblem(t, c.invalid().do(t, "POST", "/v1/invoices", c.keyA, `{"customer":{"name":"A","email":"a@b.example"},"currency":"EUR","metadata":{"k":1}}`),
		http.StatusBadRequest, "wrong_type", "metadata.k")
}

func TestUpdateInvoice200Draft(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	empty := wantInvoice(t, c.do(t, "POST", "/v1/invoices", c.keyA, map[string]any{
		"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR", "due_date": "2026-12-31",
	}), http.StatusCreated)
	path := "/v1/invoices/" + empty.ID
	res := c.do(t, "PATCH", path, c.keyA, map[string]any{
		"customer": map[string]string{"name": "Globex", "email": "ap@globex.example"},
		"currency": "USD", "due_date": nil, "metadata": map[string]string{"po": "42"},
	}, "If-Match", `"v1"`, "Idempotency-Key", "e1")
	got := wantInvoice(t, res, http.StatusOK)
	if got.Customer.Name != "Globex" || got.Currency != "USD" || got.DueDate != nil || got.Metadata["po"] != "42" || got.Version != 2 {
		t.Fatalf("patched draft: %+v", got)
	}
	if res.header.Get("ETag") != `"v2"` {
		t.Errorf("ETag %q", res.header.Get("ETag"))
	}
	again := c.do(t, "PATCH", path, c.keyA, map[string]any{
		"customer": map[string]string{"name": "Globex", "email": "ap@globex.example"},
		"currency": "USD", "due_date": nil, "metadata": map[string]string{"po": "42"},
	}, "Idempotency-Key", "e1")
	if again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(res.body) {
		t.Errorf("replay %d %s", again.status, again.body)
	}
	// The same values again change nothing: no event, the same version.
	same := wantInvoice(t, c.do(t, "PATCH", path, c.keyA, map[string]any{"currency": "USD", "metadata": map[string]string{"absent": ""}}), http.StatusOK)
	if same.Version != 2 {
		t.Errorf("a patch without change moved the version to %d", same.Version)
	}
	dated := wantInvoice(t, c.do(t, "PATCH", path, c.keyA, map[string]any{"due_date": "2027-01-15"}), http.StatusOK)
	if dated.DueDate == nil || *dated.DueDate != "2027-01-15" {
		t.Errorf("due date %v", dated.DueDate)
	}

	withLines := c.newDraft(t, c.keyA)
	wantProblem(t, c.do(t, "PATCH", "/v1/invoices/"+withLines.ID, c.keyA, map[string]any{"currency": "USD"}), http.StatusConflict, "currency_fixed", "currency")
	wantProblem(t, c.do(t, "PATCH", "/v1/invoices/"+withLines.ID, c.keyA, map[string]any{"currency": "usd"}), http.StatusUnprocessableEntity, "invalid_currency", "currency")
	wantProblem(t, c.do(t, "PATCH", "/v1/invoices/"+withLines.ID, c.keyA, map[string]any{"due_date": "2026-02-30"}), http.StatusUnprocessableEntity, "invalid_due_date", "due_date")
	wantProblem(t, c.do(t, "PATCH", "/v1/invoices/"+withLines.ID, c.keyA, map[string]any{"customer": map[string]string{"name": "", "email": "x"}}),
		http.StatusUnprocessableEntity, "invalid_customer", "customer.email")
	wantProblem(t, c.invalid().do(t, "PATCH", "/v1/invoices/"+withLines.ID, c.keyA, `{"due_date": 20261231}`), http.StatusBadRequest, "wrong_type", "due_date")
	wantProblem(t, c.invalid().do(t, "PATCH", "/v1/invoices/"+withLines.ID, c.keyA, `{"number": "INV-1"}`), http.StatusBadRequest, "unknown_field", "number")
	wantProblem(t, c.do(t, "PATCH", "/v1/invoices/"+withLines.ID, c.keyA, map[string]any{}, "If-Match", `"7"`), http.StatusPreconditionFailed, "version_mismatch", "If-Match")
	wantProblem(t, c.do(t, "PATCH", "/v1/invoices/"+withLines.ID, c.keyB, map[string]any{}), http.StatusNotFound, "invoice_not_found", "")
	c.wantUnchanged(t, c.keyA, withLines)
}

func TestUpdateInvoiceIssuedOnlyMetadata(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID
	for field, value := range map[string]any{
		"customer": map[string]string{"name": "Globex", "email": "ap@globex.example"}, "due_date": "2027-01-01", "currency": "USD",
	} {
		wantProblem(t, c.do(t, "PATCH", path, c.keyA, map[string]any{field: value}), http.StatusConflict, "invalid_transition", field)
	}
	c.wantUnchanged(t, c.keyA, inv)
	// The invoice's own values are no change: only the metadata is.
	same := wantInvoice(t, c.do(t, "PATCH", path, c.keyA, map[string]any{"customer": inv.Customer, "currency": inv.Currency, "due_date": nil,
		"metadata": map[string]string{"x": "1"}}), http.StatusOK)
	if same.Version != inv.Version+1 || same.Metadata["x"] != "1" {
		t.Errorf("patch of the metadata with the invoice's own values: %+v", same)
	}
	wantInvoice(t, c.do(t, "PATCH", path, c.keyA, map[string]any{"metadata": map[string]any{"x": nil}}), http.StatusOK)

	got := wantInvoice(t, c.do(t, "PATCH", path, c.keyA, map[string]any{"metadata": map[string]string{"a": "1", "b": "2"}}), http.StatusOK)
	if fmt.Sprint(got.Metadata) != "map[a:1 b:2]" {
		t.Fatalf("metadata %v", got.Metadata)
	}
	got = wantInvoice(t, c.do(t, "PATCH", path, c.keyA, map[string]any{"metadata": map[string]any{"a": nil, "b": "", "c": "3"}}), http.StatusOK)
	if fmt.Sprint(got.Metadata) != "map[c:3]" {
		t.Fatalf("merged metadata %v", got.Metadata)
	}
	wantProblem(t, c.do(t, "PATCH", path, c.keyA, map[string]any{"metadata": map[string]string{"c": strings.Repeat("x", 501)}}),
		http.StatusUnprocessableEntity, "invalid_metadata", "metadata.c")
	wantInvoice(t, c.do(t, "POST", path+"/payments", c.keyA, map[string]any{"amount": 12000, "reference": "p"}), http.StatusOK)
	paid := wantInvoice(t, c.do(t, "PATCH", path, c.keyA, map[string]any{"metadata": map[string]string{"settled": "yes"}}), http.StatusOK)
	if paid.Status != "paid" || paid.Metadata["settled"] != "yes" || paid.Metadata["c"] != "3" {
		t.Errorf("paid invoice's metadata: %+v", paid)
	}
}

// An invoice past its due date says so once the overdue job has run, and
// records invoicing.invoice.overdue once however often it runs.
func TestGetInvoice200Overdue(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	due := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	inv := wantInvoice(t, c.do(t, "POST", "/v1/invoices", c.keyA, map[string]any{
		"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR", "due_date": due,
		"lines": []map[string]any{{"description": "Consulting", "quantity": 1, "unit_amount": 1000}},
	}), http.StatusCreated)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/issue", c.keyA, nil), http.StatusOK)
	repo := c.invoices(t)
	later := fixedClock(time.Now().UTC().AddDate(0, 0, 5))
	for range 2 {
		if _, err := app.NewRecordOverdueHandler(repo, repo, later).Handle(context.Background(), app.RecordOverdue{}); err != nil {
			t.Fatal(err)
		}
	}
	got := c.get(t, c.keyA, inv.ID)
	wantAt := time.Now().UTC().AddDate(0, 0, 4).Format(time.DateOnly) + "T00:00:00Z"
	if !got.Overdue || got.OverdueAt == nil || *got.OverdueAt != wantAt || got.Status != "open" {
		t.Errorf("overdue %v at %v, want true at %s", got.Overdue, got.OverdueAt, wantAt)
	}
	overdue, _ := c.follow(t, c.keyA, "&type=invoicing.invoice.overdue", 0, 1)
	if len(overdue) != 1 || overdue[0].Subject != inv.ID {
		t.Errorf("overdue events %+v", overdue)
	}
	paid := wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": 1000, "reference": "late"}), http.StatusOK)
	if paid.Overdue || paid.OverdueAt == nil {
		t.Errorf("paid: overdue %v at %v, want false and the time kept", paid.Overdue, paid.OverdueAt)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c).Truncate(time.Microsecond) }

// A metadata value with U+0000 is a 422 naming its key that changes nothing,
// on creation and in a PATCH. Before, it reached PostgreSQL, whose jsonb
// cannot hold U+0000, and was a 500.
func TestMetadata422NUL(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	before := c.tally(t)
	wantProblem(t, c.do(t, "POST", "/v1/invoices", c.keyA, `{"customer":{"name":"A","email":"a@b.example"},"currency":"EUR","metadata":{"k":"a\u0000b"}}`),
		http.StatusUnprocessableEntity, "invalid_metadata", "metadata.k")
	wantProblem(t, c.do(t, "PATCH", "/v1/invoices/"+inv.ID, c.keyA, `{"metadata":{"k":"a\u0000b"}}`),
		http.StatusUnprocessableEntity, "invalid_metadata", "metadata.k")
	if n := c.tally(t); n != before {
		t.Errorf("rejected metadata wrote rows (invoices, lines, payments, outbox, keys): %v, want %v", n, before)
	}
	c.wantUnchanged(t, c.keyA, inv)
}

// null removes a draft's due date; "" is no date, a 422 invalid_due_date as
// on creation, and changes nothing. Before, "" removed the due date too (the
// use case took "" for its removal), so a blank form field erased it.
func TestUpdateInvoice422EmptyDueDate(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	draft := wantInvoice(t, c.do(t, "POST", "/v1/invoices", c.keyA, map[string]any{
		"customer": map[string]string{"name": "ACME", "email": "billing@acme.example"}, "currency": "EUR", "due_date": "2026-12-31",
	}), http.StatusCreated)
	wantProblem(t, c.do(t, "PATCH", "/v1/invoices/"+draft.ID, c.keyA, map[string]any{"due_date": ""}), http.StatusUnprocessableEntity, "invalid_due_date", "due_date")
	c.wantUnchanged(t, c.keyA, draft)
	if got := wantInvoice(t, c.do(t, "PATCH", "/v1/invoices/"+draft.ID, c.keyA, map[string]any{"due_date": nil}), http.StatusOK); got.DueDate != nil {
		t.Errorf("due_date %v after null", *got.DueDate)
	}
}

// PATCH is a JSON merge patch (RFC 7396): "metadata": null removes the
// metadata, every key of it, as Stripe's metadata="" does. Before, it was a
// 200 that kept every key: the client believed it had cleared them.
func TestUpdateInvoice200MetadataNullRemovesEveryKey(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID
	set := wantInvoice(t, c.do(t, "PATCH", path, c.keyA, map[string]any{"metadata": map[string]string{"a": "1", "b": "2"}}), http.StatusOK)
	res := c.do(t, "PATCH", path, c.keyA, `{"metadata":null}`, "If-Match", fmt.Sprintf(`"v%d"`, set.Version))
	got := wantInvoice(t, res, http.StatusOK)
	if len(got.Metadata) != 0 || got.Version != set.Version+1 {
		t.Fatalf(`after {"metadata":null}: metadata %v, version %d; want none, version %d`, got.Metadata, got.Version, set.Version+1)
	}
	// Without metadata, null again is no change.
	if again := wantInvoice(t, c.do(t, "PATCH", path, c.keyA, `{"metadata":null}`), http.StatusOK); again.Version != got.Version {
		t.Errorf("null on no metadata moved the version to %d", again.Version)
	}
	// A value's own errors still name their key.
	wantProblem(t, c.invalid().do(t, "PATCH", path, c.keyA, `{"metadata":{"k":1}}`), http.StatusBadRequest, "wrong_type", "metadata.k")
	wantProblem(t, c.invalid().do(t, "PATCH", path, c.keyA, `{"metadata":[]}`), http.StatusBadRequest, "wrong_type", "metadata")
	wantProblem(t, c.invalid().do(t, "PATCH", path, c.keyA, `{"metadata":{"k":"1","k":"2"}}`), http.StatusBadRequest, "duplicate_field", "metadata.k")
	wantProblem(t, c.invalid().do(t, "PATCH", path, c.keyA, `{"metadata":null,"metadata":{}}`), http.StatusBadRequest, "duplicate_field", "metadata")
	c.wantUnchanged(t, c.keyA, got)
}

// customer and currency cannot be removed: a null (RFC 7396's removal),
// which the contract does not allow, is a 400 naming the member, and changes
// nothing. Before, it was a 200 that changed nothing, so the client believed
// the patch applied.
func TestUpdateInvoice400NullCustomerOrCurrency(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	for _, inv := range []invoiceJSON{c.newDraft(t, c.keyA), c.newOpen(t, c.keyA)} {
		for _, field := range []string{"customer", "currency"} {
			t.Run(inv.Status+" "+field, func(t *testing.T) {
				wantProblem(t, c.invalid().do(t, "PATCH", "/v1/invoices/"+inv.ID, c.keyA, `{"`+field+`":null,"metadata":{"x":"1"}}`),
					http.StatusBadRequest, "wrong_type", field)
				c.wantUnchanged(t, c.keyA, inv)
			})
		}
	}
	// A value's own errors still name their place in the body.
	draft := c.newDraft(t, c.keyA)
	wantProblem(t, c.invalid().do(t, "PATCH", "/v1/invoices/"+draft.ID, c.keyA, `{"customer":{"name":1,"email":"a@b.example"}}`), http.StatusBadRequest, "wrong_type", "customer.name")
	wantProblem(t, c.invalid().do(t, "PATCH", "/v1/invoices/"+draft.ID, c.keyA, `{"customer":{"Email":"a@b.example"}}`), http.StatusBadRequest, "unknown_field", "customer.Email")
	wantProblem(t, c.invalid().do(t, "PATCH", "/v1/invoices/"+draft.ID, c.keyA, `{"currency":7}`), http.StatusBadRequest, "wrong_type", "currency")
	c.wantUnchanged(t, c.keyA, draft)
}
