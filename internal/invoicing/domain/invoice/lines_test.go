package invoice_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestAddLineBounds(t *testing.T) {
	line := func(mod func(*invoice.LineInput)) invoice.LineInput { l := consulting; mod(&l); return l }
	desc := func(s string) invoice.LineInput { return line(func(l *invoice.LineInput) { l.Description = s }) }
	qty := func(n int64) invoice.LineInput { return line(func(l *invoice.LineInput) { l.Quantity = n }) }
	unit := func(n int64) invoice.LineInput { return line(func(l *invoice.LineInput) { l.UnitAmount = n }) }
	tax := func(n int64) invoice.LineInput { return line(func(l *invoice.LineInput) { l.TaxRateBPS = n }) }
	tests := []struct {
		name  string
		in    invoice.LineInput
		want  error // nil: accepted
		field string
	}{
		{"description 1 rune", desc("x"), nil, ""},
		{"description 500 two-byte runes", desc(strings.Repeat("é", 500)), nil, ""},
		{"description 501 two-byte runes", desc(strings.Repeat("é", 501)), invoice.ErrInvalidDescription, "description"},
		{"description 500 three-byte runes", desc(strings.Repeat("日", 500)), nil, ""},
		{"description 501 three-byte runes", desc(strings.Repeat("日", 501)), invoice.ErrInvalidDescription, "description"},
		{"description 500 four-byte runes", desc(strings.Repeat("🧾", 500)), nil, ""},
		{"description 501 four-byte runes", desc(strings.Repeat("🧾", 501)), invoice.ErrInvalidDescription, "description"},
		{"description empty", desc(""), invoice.ErrInvalidDescription, "description"},
		{"description blank", desc(" \t"), invoice.ErrInvalidDescription, "description"},
		{"description with control", desc("a\x07b"), invoice.ErrInvalidDescription, "description"},
		{"description invalid UTF-8", desc("a\xffb"), invoice.ErrInvalidDescription, "description"},
		{"quantity -1", qty(-1), invoice.ErrInvalidQuantity, "quantity"},
		{"quantity 0", qty(0), invoice.ErrInvalidQuantity, "quantity"},
		{"quantity 1", qty(1), nil, ""},
		{"quantity 1,000,000", qty(1_000_000), nil, ""},
		{"quantity 1,000,001", qty(1_000_001), invoice.ErrInvalidQuantity, "quantity"},
		{"unit amount -1", unit(-1), invoice.ErrInvalidAmount, "unit_amount"},
		{"unit amount 0", unit(0), nil, ""},
		{"tax -1", tax(-1), kernel.ErrInvalidTaxRate, "tax_rate_bps"},
		{"tax 0", tax(0), nil, ""},
		{"tax 10000", tax(10_000), nil, ""},
		{"tax 10001", tax(10_001), kernel.ErrInvalidTaxRate, "tax_rate_bps"},
		{"amount overflows", invoice.LineInput{Description: "x", Quantity: 2, UnitAmount: math.MaxInt64/2 + 1}, kernel.ErrAmountOverflow, "unit_amount"},
		{"amount fits", invoice.LineInput{Description: "x", Quantity: 1, UnitAmount: math.MaxInt64}, nil, ""},
		{"amount plus tax overflows", invoice.LineInput{Description: "x", Quantity: 1, UnitAmount: math.MaxInt64, TaxRateBPS: 1}, kernel.ErrAmountOverflow, "unit_amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newDraft(t) // no lines, so only the new line can overflow
			before := observe(inv)
			id, err := inv.AddLine(tt.in, t1)
			if tt.want != nil {
				var e *failure.Error
				if !errors.Is(err, tt.want) || !errors.As(err, &e) || e.Field != tt.field {
					t.Fatalf("err = %#v, want %v on %q", err, tt.want, tt.field)
				}
				assertUnchanged(t, before, inv)
				return
			}
			must(t, err)
			if uuid.UUID(id).Version() != 7 {
				t.Errorf("line id %s is not a UUIDv7", id)
			}
			lines := inv.Lines()
			if len(lines) != 1 || lines[0].ID != id || lines[0].Description != tt.in.Description {
				t.Errorf("lines %+v", lines)
			}
			evs := inv.PullEvents()
			if e, ok := evs[0].(invoice.InvoiceLineAdded); !ok || len(evs) != 1 || e.Line.ID != id || e.Total != inv.Total().Amount() {
				t.Errorf("events %+v", evs)
			}
		})
	}
}

func TestTotals(t *testing.T) {
	l := func(q, unit, bps int64) invoice.LineInput {
		return invoice.LineInput{Description: "item", Quantity: q, UnitAmount: unit, TaxRateBPS: bps}
	}
	tests := []struct {
		name            string
		lines           []invoice.LineInput
		sub, tax, total int64
	}{
		{"none", nil, 0, 0, 0},
		{"half rounds up", []invoice.LineInput{l(1, 100, 50)}, 100, 1, 101},
		{"below half rounds down", []invoice.LineInput{l(1, 99, 50)}, 99, 0, 99},
		{"exact", []invoice.LineInput{l(1, 10, 2000)}, 10, 2, 12},
		{"quantity times unit", []invoice.LineInput{l(3, 333, 1500)}, 999, 150, 1149}, // 149.85
		{"tax rounds per line", []invoice.LineInput{l(1, 100, 50), l(1, 100, 50)}, 200, 2, 202},
		{"mixed rates", []invoice.LineInput{l(2, 500, 2000), l(1, 1999, 550), l(1_000_000, 1, 0)}, 1_002_999, 310, 1_003_309}, // 200 + 109.945
		{"full rate", []invoice.LineInput{l(1, 7, 10_000)}, 7, 7, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newDraft(t, tt.lines...)
			if inv.Subtotal().Amount() != tt.sub || inv.Tax().Amount() != tt.tax || inv.Total().Amount() != tt.total {
				t.Errorf("subtotal %d tax %d total %d, want %d %d %d",
					inv.Subtotal().Amount(), inv.Tax().Amount(), inv.Total().Amount(), tt.sub, tt.tax, tt.total)
			}
			if inv.AmountPaid().Amount() != 0 || inv.AmountDue().Amount() != tt.total || inv.Total().Currency() != eur {
				t.Errorf("paid %v due %v", inv.AmountPaid(), inv.AmountDue())
			}
			var sum int64
			for i, line := range inv.Lines() {
				in := tt.lines[i]
				if line.Amount.Amount() != in.Quantity*in.UnitAmount || line.UnitAmount.Amount() != in.UnitAmount {
					t.Errorf("line %d: %+v", i, line)
				}
				sum += line.Tax.Amount()
			}
			if sum != tt.tax {
				t.Errorf("line taxes sum to %d, want %d", sum, tt.tax)
			}
		})
	}
}

func TestLineCountLimit(t *testing.T) {
	if _, err := invoice.New(invoice.NewID(), tenant, eur, customer, t0, slices.Repeat([]invoice.LineInput{consulting}, 500), t0); err != nil {
		t.Fatalf("New with 500 lines: %v", err)
	}
	inv := newDraft(t, slices.Repeat([]invoice.LineInput{consulting}, 499)...)
	if _, err := inv.AddLine(consulting, t1); err != nil {
		t.Fatalf("500th line: %v", err)
	}
	inv.PullEvents()
	before := observe(inv)
	if _, err := inv.AddLine(consulting, t1); !errors.Is(err, invoice.ErrTooManyLines) {
		t.Fatalf("501st line: %v, want ErrTooManyLines", err)
	}
	assertUnchanged(t, before, inv)
}

func TestAddLineTotalOverflow(t *testing.T) {
	inv := newDraft(t, invoice.LineInput{Description: "big", Quantity: 1, UnitAmount: math.MaxInt64})
	before := observe(inv)
	if _, err := inv.AddLine(invoice.LineInput{Description: "one more", Quantity: 1, UnitAmount: 1}, t1); !errors.Is(err, kernel.ErrAmountOverflow) {
		t.Fatalf("err = %v, want ErrAmountOverflow", err)
	}
	assertUnchanged(t, before, inv)
}

func TestRemoveLine(t *testing.T) {
	cheap := invoice.LineInput{Description: "Cheap", Quantity: 1, UnitAmount: 100, TaxRateBPS: 0}
	inv := newDraft(t, consulting, cheap, consulting)
	lines := inv.Lines()
	must(t, inv.RemoveLine(lines[0].ID, t1))
	got := inv.Lines()
	if len(got) != 2 || got[0].ID != lines[1].ID || got[1].ID != lines[2].ID {
		t.Fatalf("lines after removal %+v", got)
	}
	if inv.Total().Amount() != 1300 {
		t.Errorf("total %d, want 1300", inv.Total().Amount())
	}
	evs := inv.PullEvents()
	if e, ok := evs[0].(invoice.InvoiceLineRemoved); !ok || len(evs) != 1 || e.LineID != lines[0].ID || e.Subtotal != 1100 || e.Tax != 200 || e.Total != 1300 {
		t.Errorf("events %+v", evs)
	}
	got[0].Description = "changed by the caller"
	if inv.Lines()[0].Description != "Cheap" {
		t.Error("Lines() returned a slice aliasing the invoice's lines")
	}

	before := observe(inv)
	for _, id := range []invoice.LineID{lines[0].ID, invoice.LineID(uuid.New()), {}} {
		if err := inv.RemoveLine(id, t1); !errors.Is(err, invoice.ErrLineNotFound) || failure.KindOf(err) != failure.NotFound {
			t.Errorf("RemoveLine(%s) = %v, want ErrLineNotFound", id, err)
		}
	}
	assertUnchanged(t, before, inv)
}
