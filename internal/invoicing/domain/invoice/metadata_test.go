package invoice_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

func TestMetadataLimits(t *testing.T) {
	fifty := map[string]string{}
	for i := range invoice.MaxMetadataKeys {
		fifty[fmt.Sprint("k", i)] = "v"
	}
	escaped := map[string]string{} // 50 × 500 characters JSON writes as 6 bytes each
	for i := range invoice.MaxMetadataKeys {
		escaped[fmt.Sprint("k", i)] = strings.Repeat("\u2028", invoice.MaxMetadataValue)
	}
	fiftyOne := maps.Clone(fifty)
	fiftyOne["one-more"] = "v"
	tests := []struct {
		name       string
		metadata   map[string]string
		wantFields []string // nil: accepted
	}{
		{"none", nil, nil},
		{"50 keys", fifty, nil},
		{"longest key and value", map[string]string{strings.Repeat("é", 40): strings.Repeat("日", 500)}, nil},
		{"51 keys", fiftyOne, []string{"metadata"}},
		{"over MaxMetadataBytes as JSON", escaped, []string{"metadata"}},
		{"key of 41 characters", map[string]string{strings.Repeat("k", 41): "v"}, []string{"metadata." + strings.Repeat("k", 41)}},
		{"value of 501 characters", map[string]string{"k": strings.Repeat("v", 501)}, []string{"metadata.k"}},
		{"empty key", map[string]string{"": "v"}, []string{"metadata."}},
		{"key with brackets", map[string]string{"a[b]": "v"}, []string{"metadata.a[b]"}},
		{"key with a control character", map[string]string{"a\nb": "v"}, []string{"metadata"}},
		{"value not UTF-8", map[string]string{"k": "\xff"}, []string{"metadata.k"}},
		{"value with NUL, which PostgreSQL cannot store as JSON", map[string]string{"k": "a\x00b"}, []string{"metadata.k"}},
		{"value with a tab and a newline", map[string]string{"address": "Main St 1\n\t12345 Town"}, nil},
		{"two bad keys, in order", map[string]string{"b": strings.Repeat("v", 501), "a": strings.Repeat("v", 501)}, []string{"metadata.a", "metadata.b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, time.Time{}, nil, t0, invoice.WithMetadata(tt.metadata))
			if tt.wantFields != nil {
				if !errors.Is(err, invoice.ErrInvalidMetadata) || !slices.Equal(fieldsOf(err), tt.wantFields) {
					t.Fatalf("err %v, fields %v; want invalid_metadata at %v", err, fieldsOf(err), tt.wantFields)
				}
				return
			}
			must(t, err)
			if !maps.Equal(inv.Metadata(), tt.metadata) {
				t.Errorf("metadata %v", inv.Metadata())
			}
			e := inv.PullEvents()[0].(invoice.InvoiceCreated)
			if !maps.Equal(e.Metadata, tt.metadata) {
				t.Errorf("created event carries %v", e.Metadata)
			}
		})
	}
}

func TestMetadataMergesAndTravelsInEvents(t *testing.T) {
	inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, time.Time{}, []invoice.LineInput{consulting}, t0,
		invoice.WithMetadata(map[string]string{"order": "1", "dropped": ""}))
	must(t, err)
	if got := inv.Metadata(); !maps.Equal(got, invoice.Metadata{"order": "1"}) {
		t.Fatalf("metadata %v: an empty value sets nothing", got)
	}
	must(t, inv.Edit(invoice.Changes{Metadata: map[string]string{"order": "", "crm": "42"}}, t1))
	want := invoice.Metadata{"crm": "42"}
	must(t, inv.Issue("INV-1", t1))
	must(t, inv.Pay(inv.AmountDue(), "p", t1))
	for _, e := range inv.PullEvents()[1:] {
		var got invoice.Metadata
		switch e := e.(type) {
		case invoice.InvoiceUpdated:
			got = e.Metadata
		case invoice.InvoiceIssued:
			got = e.Metadata
		case invoice.InvoicePaid:
			got = e.Metadata
		default:
			continue
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s carries %v, want %v", e.Type(), got, want)
		}
	}
	// The getter hands out a copy.
	inv.Metadata()["crm"] = "changed"
	if inv.Metadata()["crm"] != "42" {
		t.Error("Metadata() shares the invoice's map")
	}
}

// ClearMetadata removes every key (a merge patch's "metadata": null) before
// Metadata merges, in any status; on no metadata it is no change.
func TestEditClearMetadata(t *testing.T) {
	inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, time.Time{}, []invoice.LineInput{consulting}, t0,
		invoice.WithMetadata(map[string]string{"a": "1", "b": "2"}))
	must(t, err)
	must(t, inv.Issue("INV-1", t1))
	inv.PullEvents()
	must(t, inv.Edit(invoice.Changes{ClearMetadata: true}, t1))
	if got := inv.Metadata(); len(got) != 0 {
		t.Fatalf("metadata %v after clearing", got)
	}
	events := inv.PullEvents()
	if len(events) != 1 || fmt.Sprint(events[0].(invoice.InvoiceUpdated).Fields) != "[metadata]" {
		t.Fatalf("events %v", events)
	}
	must(t, inv.Edit(invoice.Changes{ClearMetadata: true}, t1))
	if events := inv.PullEvents(); len(events) != 0 {
		t.Errorf("clearing no metadata recorded %v", events)
	}
	must(t, inv.Edit(invoice.Changes{ClearMetadata: true, Metadata: map[string]string{"c": "3"}}, t1))
	if got := inv.Metadata(); !maps.Equal(got, invoice.Metadata{"c": "3"}) {
		t.Errorf("metadata %v, want only c", got)
	}
}
