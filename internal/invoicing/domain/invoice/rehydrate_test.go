package invoice_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestRehydrateRoundTrip(t *testing.T) {
	for _, st := range states {
		t.Run(st, func(t *testing.T) {
			inv := given(t, st)
			want := observe(inv)
			got, err := invoice.Rehydrate(snapshotOf(inv))
			must(t, err)
			if have := observe(got); !reflect.DeepEqual(have, want) {
				t.Errorf("rehydrated\n%+v\nwant\n%+v", have, want)
			}
			if ev := got.PullEvents(); len(ev) != 0 {
				t.Errorf("Rehydrate recorded %v", typesOf(ev))
			}
		})
	}
	t.Run("continues versioning", func(t *testing.T) {
		inv := given(t, "partly_paid")
		got, err := invoice.Rehydrate(snapshotOf(inv))
		must(t, err)
		must(t, got.Pay(money(t, 700, eur), "pay-2", t1))
		evs := got.PullEvents()
		if len(evs) != 2 || evs[0].Meta().Version != inv.Version()+1 || evs[1].Meta().Version != inv.Version()+2 {
			t.Errorf("events after rehydration %+v", evs)
		}
		// Replaying the payment made before rehydration is still a no-op.
		must(t, got.Pay(money(t, 500, eur), "pay-1", t1))
		if ev := got.PullEvents(); len(ev) != 0 {
			t.Errorf("replay recorded %v", typesOf(ev))
		}
	})
}

func TestRehydrateRejectsCorruptSnapshots(t *testing.T) {
	pay := func(t *testing.T, amount int64, c kernel.Currency, ref string) invoice.Payment {
		return invoice.Payment{ID: invoice.PaymentID(invoice.NewID()), Amount: money(t, amount, c), Reference: ref, ReceivedAt: t0}
	}
	big := invoice.LineInputWithID{LineInput: invoice.LineInput{Description: "big", Quantity: 1, UnitAmount: math.MaxInt64}}
	tests := []struct {
		name  string
		state string
		mod   func(*testing.T, *invoice.Snapshot)
	}{
		{"unknown status", "open", func(_ *testing.T, s *invoice.Snapshot) { s.Status = "sent" }},
		{"uncollectible without its write-off time", "uncollectible", func(_ *testing.T, s *invoice.Snapshot) { s.MarkedUncollectibleAt = time.Time{} }},
		{"open with a write-off time", "open", func(_ *testing.T, s *invoice.Snapshot) { s.MarkedUncollectibleAt = t0 }},
		{"overdue draft", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.DueDate, s.OverdueAt = t0, t1 }},
		{"overdue without a due date", "open", func(_ *testing.T, s *invoice.Snapshot) { s.OverdueAt = t1 }},
		{"metadata with an empty value", "open", func(_ *testing.T, s *invoice.Snapshot) { s.Metadata = invoice.Metadata{"k": ""} }},
		{"metadata with a long key", "paid", func(_ *testing.T, s *invoice.Snapshot) { s.Metadata = invoice.Metadata{strings.Repeat("k", 41): "v"} }},
		{"empty status", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.Status = "" }},
		{"unknown currency", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.Currency = "XXX" }},
		{"lower-case currency", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.Currency = "eur" }},
		{"version 0", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.Version = 0 }},
		{"amount paid > total", "paid", func(t *testing.T, s *invoice.Snapshot) {
			s.Payments = append(s.Payments, pay(t, 1, eur, "extra"))
		}},
		{"paid with amount due", "paid", func(t *testing.T, s *invoice.Snapshot) { s.Payments[0] = pay(t, 1199, eur, "p") }},
		{"paid without payments", "paid", func(_ *testing.T, s *invoice.Snapshot) { s.Payments = nil }},
		{"open with nothing due", "partly_paid", func(t *testing.T, s *invoice.Snapshot) {
			s.Payments = append(s.Payments, pay(t, 700, eur, "pay-2"))
		}},
		{"open without lines", "open", func(_ *testing.T, s *invoice.Snapshot) { s.Lines = nil }},
		{"draft with number", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.Number = "INV-1" }},
		{"draft with issue time", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.IssuedAt = t0 }},
		{"open without number", "open", func(_ *testing.T, s *invoice.Snapshot) { s.Number = "" }},
		{"open without issue time", "open", func(_ *testing.T, s *invoice.Snapshot) { s.IssuedAt = time.Time{} }},
		{"paid without paid time", "paid", func(_ *testing.T, s *invoice.Snapshot) { s.PaidAt = time.Time{} }},
		{"open with paid time", "partly_paid", func(_ *testing.T, s *invoice.Snapshot) { s.PaidAt = t0 }},
		{"void without void time", "void", func(_ *testing.T, s *invoice.Snapshot) { s.VoidedAt = time.Time{} }},
		{"open with void time", "open", func(_ *testing.T, s *invoice.Snapshot) { s.VoidedAt = t0 }},
		{"void without reason", "void", func(_ *testing.T, s *invoice.Snapshot) { s.VoidReason = "" }},
		{"open with void reason", "open", func(_ *testing.T, s *invoice.Snapshot) { s.VoidReason = "dup" }},
		{"draft with payments", "draft", func(t *testing.T, s *invoice.Snapshot) { s.Payments = []invoice.Payment{pay(t, 1, eur, "p")} }},
		{"void with payments", "void", func(t *testing.T, s *invoice.Snapshot) { s.Payments = []invoice.Payment{pay(t, 1, eur, "p")} }},
		{"payment in other currency", "partly_paid", func(t *testing.T, s *invoice.Snapshot) { s.Payments[0] = pay(t, 500, "USD", "p") }},
		{"zero payment", "partly_paid", func(t *testing.T, s *invoice.Snapshot) { s.Payments[0] = pay(t, 0, eur, "p") }},
		{"negative payment", "partly_paid", func(t *testing.T, s *invoice.Snapshot) {
			s.Payments = append(s.Payments, pay(t, -1, eur, "neg"))
		}},
		{"repeated reference", "partly_paid", func(t *testing.T, s *invoice.Snapshot) {
			s.Payments = append(s.Payments, pay(t, 100, eur, "pay-1"))
		}},
		{"payments overflow", "open", func(t *testing.T, s *invoice.Snapshot) {
			s.Payments = []invoice.Payment{pay(t, math.MaxInt64, eur, "a"), pay(t, 1, eur, "b")}
		}},
		{"invalid line", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.Lines[0].Quantity = 0 }},
		{"501 lines", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.Lines = slices.Repeat(s.Lines, 501) }},
		{"total overflows", "draft", func(_ *testing.T, s *invoice.Snapshot) { s.Lines = []invoice.LineInputWithID{big, big} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := snapshotOf(given(t, tt.state))
			if _, err := invoice.Rehydrate(s); err != nil {
				t.Fatalf("valid %s snapshot: %v", tt.state, err)
			}
			tt.mod(t, &s)
			inv, err := invoice.Rehydrate(s)
			if !errors.Is(err, invoice.ErrCorruptInvoice) || inv != nil {
				t.Fatalf("Rehydrate = %v, %v; want nil, ErrCorruptInvoice", inv, err)
			}
			if k := failure.KindOf(err); k != failure.Internal {
				t.Errorf("kind %s, want internal", k)
			}
		})
	}
}

func TestRehydrateIgnoresClock(t *testing.T) {
	// Structural checks only: a due date long past or timestamps out of order are not corruption.
	s := snapshotOf(given(t, "open"))
	s.DueDate = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	s.IssuedAt = s.CreatedAt.Add(-time.Hour)
	if _, err := invoice.Rehydrate(s); err != nil {
		t.Fatalf("Rehydrate: %v", err)
	}
}
