package invoicinghttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// The fuzz targets send arbitrary bodies and media types through the real
// handler (routing, authentication, decoding, mapping, the use case, the
// domain, rendering) over in-memory ports, so they need no database. They
// check what must hold for any input: no 500, only the statuses the contract
// lists, a problem+json body for every error, a 400 for anything that is not
// JSON, and, when the change succeeds, an answer that agrees with the request
// to the minor unit.

// fuzzMaxBody is the handler's body limit in the fuzz targets: small, so
// the fuzzer reaches the 413 path.
const fuzzMaxBody = 4096

// fuzzOpenTotal is the total of the open invoice fuzzPayInvoice pays.
const fuzzOpenTotal = 12_000

// fuzzKeys is an APIKeys port holding one key of one tenant.
type fuzzKeys struct{ hash []byte }

func (k *fuzzKeys) Create(_ context.Context, _ string, hash []byte) (kernel.TenantID, error) {
	k.hash = hash
	return fuzzTenant, nil
}

func (k *fuzzKeys) Tenant(_ context.Context, hash []byte) (kernel.TenantID, error) {
	if !bytes.Equal(hash, k.hash) {
		return kernel.TenantID{}, app.ErrUnauthorized
	}
	return fuzzTenant, nil
}

var fuzzTenant = kernel.TenantID(invoice.NewID())

// fuzzInvoices is an Invoices port that stores nothing: Add accepts any
// invoice; Update runs fn on a fresh open invoice of fuzzOpenTotal EUR.
type fuzzInvoices struct{}

func (fuzzInvoices) Add(_ context.Context, inv *invoice.Invoice, _ app.ChangeOptions, _ app.Result) (app.Changed, error) {
	inv.PullEvents()
	return app.Changed{Invoice: inv}, nil
}

func (fuzzInvoices) Get(context.Context, kernel.TenantID, invoice.ID) (*invoice.Invoice, error) {
	return nil, invoice.ErrNotFound
}

func (fuzzInvoices) List(context.Context, kernel.TenantID, app.ListFilter) (app.InvoicePage, error) {
	return app.InvoicePage{}, nil
}

func (fuzzInvoices) Lines(context.Context, kernel.TenantID, invoice.ID, app.LineFilter) (app.LinePage, error) {
	return app.LinePage{}, invoice.ErrNotFound
}

func (fuzzInvoices) Update(ctx context.Context, tenant kernel.TenantID, id invoice.ID, _ app.ChangeOptions, fn app.UpdateFunc) (app.Changed, error) {
	now := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	inv, err := invoice.New(id, tenant, "EUR", invoice.Customer{Name: "Ada", Email: "ada@example.com"}, time.Time{},
		[]invoice.LineInput{{Description: "Consulting", Quantity: 1, UnitAmount: 10_000, TaxRateBPS: 2000}}, now)
	if err != nil {
		return app.Changed{}, err
	}
	if err := inv.Issue("INV-2026-000001", now); err != nil {
		return app.Changed{}, err
	}
	inv.PullEvents()
	if _, err := fn(ctx, inv, fuzzTx{}); err != nil {
		return app.Changed{}, err
	}
	inv.PullEvents()
	return app.Changed{Invoice: inv}, nil
}

// fuzzTx hands out number 1 every time.
type fuzzTx struct{}

func (fuzzTx) NextInvoiceNumber(context.Context, kernel.TenantID, int) (int64, error) { return 1, nil }

func (fuzzTx) NextCreditNoteNumber(context.Context, kernel.TenantID, int) (int64, error) {
	return 1, nil
}

func (fuzzTx) AddCreditNote(context.Context, *creditnote.CreditNote) error { return nil }

// fuzzHandler returns the real handler over the in-memory ports and its
// API key.
func fuzzHandler(f *testing.F) (http.Handler, string) {
	keys := &fuzzKeys{}
	a := app.New(fuzzInvoices{}, keys, nil, app.SystemClock{})
	key, _, err := a.CreateAPIKey.Handle(context.Background(), app.CreateAPIKey{TenantName: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	return invoicinghttp.NewHandler(a, invoicinghttp.Config{MaxBodyBytes: fuzzMaxBody}), key
}

// fuzzPost serves one POST and checks what holds for every answer. It
// returns the status and body.
func fuzzPost(t *testing.T, h http.Handler, key, path, contentType string, body []byte, allowed ...int) (int, []byte) {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	got := rec.Body.Bytes()
	if res.StatusCode == http.StatusInternalServerError {
		t.Fatalf("500 for Content-Type %q body %q: %s", contentType, body, got)
	}
	if !slices.Contains(allowed, res.StatusCode) {
		t.Fatalf("status %d, want one of %v, for Content-Type %q body %q: %s", res.StatusCode, allowed, contentType, body, got)
	}
	if res.StatusCode >= 400 {
		var p struct {
			Type   string `json:"type"`
			Status int    `json:"status"`
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%d with Content-Type %q", res.StatusCode, ct)
		}
		if err := json.Unmarshal(got, &p); err != nil || p.Status != res.StatusCode || !strings.HasPrefix(p.Type, "urn:invoicing:problem:") {
			t.Fatalf("%d with a malformed problem (%v): %s", res.StatusCode, err, got)
		}
	}
	// Whatever is not JSON is a 400, once the media type and size pass.
	mt, params, err := mime.ParseMediaType(contentType)
	charset, hasCharset := params["charset"]
	jsonType := err == nil && mt == "application/json" && (!hasCharset || strings.EqualFold(charset, "utf-8"))
	if jsonType && len(body) > 0 && len(body) <= fuzzMaxBody && !json.Valid(body) && res.StatusCode != http.StatusBadRequest {
		t.Fatalf("body %q is not JSON but got %d: %s", body, res.StatusCode, got)
	}
	if !jsonType && len(body) > 0 && res.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("Content-Type %q is not JSON but got %d: %s", contentType, res.StatusCode, got)
	}
	return res.StatusCode, got
}

// strictDecode decodes body into dst as the contract describes it: one JSON
// value (RFC 7493 I-JSON: UTF-8 text, no member named twice), no unknown
// fields, and each member named in the contract's own case (which
// encoding/json's DisallowUnknownFields does not check).
func strictDecode(body []byte, dst any) error {
	if !jsontext.Value(body).IsValid() {
		return errors.New("not I-JSON: invalid UTF-8, a lone surrogate or a member named twice")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return exactNames(v)
}

// requestNames are the member names of every request body, in their case.
var requestNames = map[string]bool{
	"customer": true, "name": true, "email": true, "currency": true, "due_date": true, "lines": true,
	"description": true, "quantity": true, "unit_amount": true, "tax_rate_bps": true, "amount": true, "reference": true,
}

// exactNames fails on the first member name of v, at any depth, that is not
// one of requestNames.
func exactNames(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for name, member := range v {
			if !requestNames[name] {
				return fmt.Errorf("member %q is not named as the contract names it", name)
			}
			if err := exactNames(member); err != nil {
				return err
			}
		}
	case []any:
		for _, item := range v {
			if err := exactNames(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// FuzzCreateInvoice posts arbitrary bodies to POST /v1/invoices. Seeds:
// testdata/fuzz/FuzzCreateInvoice.
func FuzzCreateInvoice(f *testing.F) {
	h, key := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		status, got := fuzzPost(t, h, key, "/v1/invoices", contentType, body,
			http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge,
			http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
		if status != http.StatusCreated {
			return
		}
		var req struct {
			Customer *struct {
				Name  string `json:"name"`
				Email string `json:"email"`
			} `json:"customer"`
			Currency *string `json:"currency"`
			DueDate  *string `json:"due_date"`
			Lines    []struct {
				Description *string `json:"description"`
				Quantity    *int64  `json:"quantity"`
				UnitAmount  *int64  `json:"unit_amount"`
				TaxRateBPS  *int64  `json:"tax_rate_bps"`
			} `json:"lines"`
		}
		if err := strictDecode(body, &req); err != nil {
			t.Fatalf("201 for a body the contract rejects (%v): %q", err, body)
		}
		if req.Customer == nil || req.Currency == nil {
			t.Fatalf("201 without customer or currency: %q", body)
		}
		var inv invoiceJSON
		if err := json.Unmarshal(got, &inv); err != nil {
			t.Fatalf("201 body is not an invoice: %v: %s", err, got)
		}
		if inv.Status != "draft" || inv.Currency != *req.Currency || len(inv.Lines) != len(req.Lines) || inv.AmountPaid != 0 {
			t.Fatalf("201 invoice does not match the request %q: %s", body, got)
		}
		if req.DueDate != nil {
			due, err := time.Parse(time.DateOnly, *req.DueDate)
			if err != nil || due.Year() < invoice.MinDueYear || due.Year() > invoice.MaxDueYear {
				t.Fatalf("201 for due_date %q, not a date from %d to %d", *req.DueDate, invoice.MinDueYear, invoice.MaxDueYear)
			}
			if inv.DueDate == nil || *inv.DueDate != *req.DueDate {
				t.Fatalf("201 with due_date %v for due_date %q", inv.DueDate, *req.DueDate)
			}
		}
		// Amounts to the minor unit, in unbounded integers: line amount =
		// quantity × unit, tax per line rounded half-up, totals their sums.
		sub, tax := new(big.Int), new(big.Int)
		for i, l := range req.Lines {
			if l.Description == nil || l.Quantity == nil || l.UnitAmount == nil {
				t.Fatalf("201 with line %d missing a required field: %q", i, body)
			}
			bps := int64(0)
			if l.TaxRateBPS != nil {
				bps = *l.TaxRateBPS
			}
			amount := new(big.Int).Mul(big.NewInt(*l.Quantity), big.NewInt(*l.UnitAmount))
			lineTax := halfUp(new(big.Int).Mul(amount, big.NewInt(bps)), 10_000)
			if got := inv.Lines[i]; !amount.IsInt64() || got.Amount != amount.Int64() || got.Quantity != *l.Quantity ||
				got.UnitAmount != *l.UnitAmount || got.TaxRateBPS != bps {
				t.Fatalf("line %d: got %+v, want amount %s for %q", i, got, amount, body)
			}
			sub.Add(sub, amount)
			tax.Add(tax, lineTax)
		}
		total := new(big.Int).Add(sub, tax)
		if !total.IsInt64() || inv.Subtotal != sub.Int64() || inv.Tax != tax.Int64() || inv.Total != total.Int64() || inv.AmountDue != inv.Total {
			t.Fatalf("totals %d + %d = %d (due %d), want %s + %s = %s for %q", inv.Subtotal, inv.Tax, inv.Total, inv.AmountDue, sub, tax, total, body)
		}
	})
}

// FuzzPayInvoice posts arbitrary bodies to POST /v1/invoices/{id}/payments
// of an open invoice. Seeds: testdata/fuzz/FuzzPayInvoice.
func FuzzPayInvoice(f *testing.F) {
	h, key := fuzzHandler(f)
	path := "/v1/invoices/" + invoice.NewID().String() + "/payments"
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		status, got := fuzzPost(t, h, key, path, contentType, body,
			http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge,
			http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
		var req struct {
			Amount    *int64  `json:"amount"`
			Reference *string `json:"reference"`
			Currency  *string `json:"currency"`
		}
		decoded := strictDecode(body, &req) == nil
		if decoded && req.Amount != nil && (*req.Amount <= 0 || *req.Amount > fuzzOpenTotal) && status == http.StatusOK {
			t.Fatalf("200 for amount %d of an invoice due %d", *req.Amount, fuzzOpenTotal)
		}
		if status != http.StatusOK {
			return
		}
		if !decoded || req.Amount == nil || req.Reference == nil {
			t.Fatalf("200 for a body the contract rejects: %q", body)
		}
		if req.Currency != nil && *req.Currency != "EUR" {
			t.Fatalf("200 for a payment in %q of a EUR invoice", *req.Currency)
		}
		var inv invoiceJSON
		if err := json.Unmarshal(got, &inv); err != nil {
			t.Fatalf("200 body is not an invoice: %v: %s", err, got)
		}
		wantStatus := "open"
		if *req.Amount == fuzzOpenTotal {
			wantStatus = "paid"
		}
		if inv.AmountPaid != *req.Amount || inv.AmountDue != fuzzOpenTotal-*req.Amount || inv.Status != wantStatus ||
			len(inv.Payments) != 1 || inv.Payments[0].Reference != *req.Reference || inv.Payments[0].Amount != *req.Amount {
			t.Fatalf("payment of %d (%q) answered with %s", *req.Amount, *req.Reference, got)
		}
	})
}

// halfUp returns n / d rounded half away from zero, for d > 0.
func halfUp(n *big.Int, d int64) *big.Int {
	abs := new(big.Int).Abs(n)
	q := abs.Add(abs, big.NewInt(d/2)).Quo(abs, big.NewInt(d))
	if n.Sign() < 0 {
		q.Neg(q)
	}
	return q
}
