package invoice_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestEdit(t *testing.T) {
	grace := invoice.Customer{Name: " Grace Hopper ", Email: "grace@example.com"}
	usd := kernel.Currency("USD")
	due := time.Date(2026, 5, 1, 15, 0, 0, 0, time.FixedZone("X", 3600))
	none := time.Time{}
	tests := []struct {
		name       string
		state      string
		lines      bool
		changes    invoice.Changes
		wantErr    error    // nil: success
		wantFields []string // of the error, or of the event; nil event: a no-op
	}{
		{"draft: customer, due date, metadata", "draft", true,
			invoice.Changes{Customer: &grace, DueDate: &due, Metadata: map[string]string{"order": "1"}}, nil,
			[]string{"customer", "due_date", "metadata"}},
		{"draft without lines: currency", "draft", false, invoice.Changes{Currency: &usd}, nil, []string{"currency"}},
		{"draft with lines: currency", "draft", true, invoice.Changes{Currency: &usd}, invoice.ErrCurrencyFixed, []string{"currency"}},
		{"draft with lines: the same currency", "draft", true, invoice.Changes{Currency: ptr(eur)}, nil, nil},
		{"draft: unknown currency", "draft", false, invoice.Changes{Currency: ptr(kernel.Currency("XXX"))}, kernel.ErrInvalidCurrency, []string{"currency"}},
		{"draft: due date removed", "draft", true, invoice.Changes{DueDate: &none}, nil, nil}, // it had none
		{"draft: due date out of range", "draft", true, invoice.Changes{DueDate: ptr(time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC))}, invoice.ErrInvalidDueDate, []string{"due_date"}},
		{"draft: bad customer and metadata, all reported", "draft", true,
			invoice.Changes{Customer: &invoice.Customer{Name: "", Email: "x"}, Metadata: map[string]string{"k": strings.Repeat("v", 501)}},
			invoice.ErrInvalidCustomer, []string{"customer.name", "customer.email", "metadata.k"}},
		{"draft: nothing changes", "draft", true, invoice.Changes{Customer: &customer}, nil, nil},
		{"open: metadata", "open", true, invoice.Changes{Metadata: map[string]string{"order": "1"}}, nil, []string{"metadata"}},
		{"open: customer", "open", true, invoice.Changes{Customer: &grace}, invoice.ErrInvalidTransition, []string{"customer"}},
		{"open: the same customer, currency and due date, new metadata", "open", true,
			invoice.Changes{Customer: &customer, Currency: ptr(eur), DueDate: &none, Metadata: map[string]string{"order": "1"}}, nil, []string{"metadata"}},
		{"paid: due date and currency", "paid", true, invoice.Changes{DueDate: &due, Currency: &usd}, invoice.ErrInvalidTransition, []string{"due_date", "currency"}},
		{"void: metadata", "void", true, invoice.Changes{Metadata: map[string]string{"order": "1"}}, nil, []string{"metadata"}},
		{"uncollectible: metadata removal of an absent key", "uncollectible", true, invoice.Changes{Metadata: map[string]string{"order": ""}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := given(t, tt.state)
			if !tt.lines {
				inv = newDraft(t)
			}
			before := observe(inv)
			err := inv.Edit(tt.changes, t1)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !slices.Equal(fieldsOf(err), tt.wantFields) {
					t.Fatalf("err %v (fields %v), want %v at %v", err, fieldsOf(err), tt.wantErr, tt.wantFields)
				}
				assertUnchanged(t, before, inv)
				return
			}
			must(t, err)
			if tt.wantFields == nil {
				assertUnchanged(t, before, inv)
				return
			}
			evs := inv.PullEvents()
			e, ok := evs[0].(invoice.InvoiceUpdated)
			if len(evs) != 1 || !ok || !slices.Equal(e.Fields, tt.wantFields) || inv.Version() != before.Snapshot.Version+1 {
				t.Fatalf("events %+v, version %d", evs, inv.Version())
			}
			if e.Customer != inv.Customer() || e.Currency != inv.Currency() || len(e.Metadata) != len(inv.Metadata()) {
				t.Errorf("event %+v does not show the invoice after the edit", e)
			}
			if _, err := invoice.Rehydrate(snapshotOf(inv)); err != nil {
				t.Errorf("Rehydrate: %v", err)
			}
		})
	}
}

func TestEditResults(t *testing.T) {
	inv := newDraft(t)
	due := time.Date(2026, 5, 1, 23, 0, 0, 0, time.FixedZone("X", -3600))
	must(t, inv.Edit(invoice.Changes{Customer: &invoice.Customer{Name: " Grace ", Email: "g@example.com"}, DueDate: &due, Currency: ptr(kernel.Currency("JPY"))}, t1))
	if inv.Customer().Name != "Grace" || !inv.DueDate().Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) || inv.Currency() != "JPY" || !inv.UpdatedAt().Equal(t1) {
		t.Errorf("customer %+v, due %v, currency %s, updated %v", inv.Customer(), inv.DueDate(), inv.Currency(), inv.UpdatedAt())
	}
	none := time.Time{}
	must(t, inv.Edit(invoice.Changes{DueDate: &none}, t1))
	if !inv.DueDate().IsZero() {
		t.Errorf("due date %v after removal", inv.DueDate())
	}
}

func ptr[T any](v T) *T { return &v }
