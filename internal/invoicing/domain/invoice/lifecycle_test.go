package invoice_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// behaviours are the aggregate's commands, each with valid input, so that only
// the invoice's state decides whether it is allowed.
var behaviours = map[string]func(*testing.T, *invoice.Invoice) error{
	"add_line": func(_ *testing.T, inv *invoice.Invoice) error { _, err := inv.AddLine(consulting, t1); return err },
	"remove_line": func(_ *testing.T, inv *invoice.Invoice) error {
		return inv.RemoveLine(inv.Lines()[0].ID, t1)
	},
	"issue":    func(_ *testing.T, inv *invoice.Invoice) error { return inv.Issue("INV-2", t1) },
	"pay_part": func(t *testing.T, inv *invoice.Invoice) error { return inv.Pay(money(t, 100, eur), "pay-new", t1) },
	"pay_due": func(t *testing.T, inv *invoice.Invoice) error {
		due := inv.AmountDue().Amount()
		if due <= 0 {
			due = 100
		}
		return inv.Pay(money(t, due, eur), "pay-new", t1)
	},
	"void":               func(_ *testing.T, inv *invoice.Invoice) error { return inv.Void("customer cancelled", t1) },
	"mark_uncollectible": func(_ *testing.T, inv *invoice.Invoice) error { return inv.MarkUncollectible(t1) },
	"edit_customer": func(_ *testing.T, inv *invoice.Invoice) error {
		return inv.Edit(invoice.Changes{Customer: &invoice.Customer{Name: "Grace Hopper", Email: "grace@example.com"}}, t1)
	},
	"edit_metadata": func(_ *testing.T, inv *invoice.Invoice) error {
		return inv.Edit(invoice.Changes{Metadata: map[string]string{"order_id": "6735"}}, t1)
	},
}

func TestTransitions(t *testing.T) {
	const (
		added   = invoice.TypeLineAdded
		removed = invoice.TypeLineRemoved
		issued  = invoice.TypeIssued
		payment = invoice.TypePaymentRecorded
		paid    = invoice.TypePaid
		voided  = invoice.TypeVoided
		written = invoice.TypeMarkedUncollectible
		updated = invoice.TypeUpdated
	)
	type want struct {
		status invoice.Status // after success
		events []string       // nil: the command must fail with ErrInvalidTransition
	}
	forbidden := want{}
	// Metadata can be edited in every status; the rest is per state.
	meta := want{events: []string{updated}}
	closed := map[string]want{"add_line": forbidden, "remove_line": forbidden, "issue": forbidden, "pay_part": forbidden,
		"pay_due": forbidden, "void": forbidden, "mark_uncollectible": forbidden, "edit_customer": forbidden}
	matrix := map[string]map[string]want{
		"draft": {
			"add_line": {invoice.StatusDraft, []string{added}}, "remove_line": {invoice.StatusDraft, []string{removed}},
			"issue": {invoice.StatusOpen, []string{issued}}, "pay_part": forbidden, "pay_due": forbidden, "void": forbidden,
			"mark_uncollectible": forbidden, "edit_customer": {invoice.StatusDraft, []string{updated}},
		},
		"open": {
			"add_line": forbidden, "remove_line": forbidden, "issue": forbidden,
			"pay_part": {invoice.StatusOpen, []string{payment}}, "pay_due": {invoice.StatusPaid, []string{payment, paid}},
			"void": {invoice.StatusVoid, []string{voided}}, "mark_uncollectible": {invoice.StatusUncollectible, []string{written}},
			"edit_customer": forbidden,
		},
		"partly_paid": {
			"add_line": forbidden, "remove_line": forbidden, "issue": forbidden,
			"pay_part": {invoice.StatusOpen, []string{payment}}, "pay_due": {invoice.StatusPaid, []string{payment, paid}},
			"void":               forbidden, // refunds are out of scope
			"mark_uncollectible": {invoice.StatusUncollectible, []string{written}}, "edit_customer": forbidden,
		},
		"paid": closed,
		"void": closed,
		"uncollectible": {
			"add_line": forbidden, "remove_line": forbidden, "issue": forbidden,
			"pay_part": {invoice.StatusUncollectible, []string{payment}}, "pay_due": {invoice.StatusPaid, []string{payment, paid}},
			"void": {invoice.StatusVoid, []string{voided}}, "mark_uncollectible": forbidden, "edit_customer": forbidden,
		},
		"partly_uncollectible": {
			"add_line": forbidden, "remove_line": forbidden, "issue": forbidden,
			"pay_part": {invoice.StatusUncollectible, []string{payment}}, "pay_due": {invoice.StatusPaid, []string{payment, paid}},
			"void": forbidden, "mark_uncollectible": forbidden, "edit_customer": forbidden,
		},
		"paid_uncollectible": closed,
		"void_uncollectible": closed,
	}
	for st := range matrix {
		w := meta
		w.status = invoice.Status(strings.TrimSuffix(st, "_uncollectible"))
		switch st {
		case "partly_paid":
			w.status = invoice.StatusOpen
		case "partly_uncollectible":
			w.status = invoice.StatusUncollectible
		}
		matrix[st] = maps.Clone(matrix[st])
		matrix[st]["edit_metadata"] = w
	}
	for _, st := range states {
		for name, do := range behaviours {
			w, ok := matrix[st][name]
			if !ok {
				t.Fatalf("matrix lacks %s × %s", st, name)
			}
			t.Run(st+"/"+name, func(t *testing.T) {
				inv := given(t, st)
				before := observe(inv)
				err := do(t, inv)
				if w.events == nil {
					if !errors.Is(err, invoice.ErrInvalidTransition) {
						t.Fatalf("err = %v, want ErrInvalidTransition", err)
					}
					if k := failure.KindOf(err); k != failure.Conflict {
						t.Errorf("kind %s, want conflict", k)
					}
					assertUnchanged(t, before, inv)
					return
				}
				must(t, err)
				evs := inv.PullEvents()
				if got := typesOf(evs); !slices.Equal(got, w.events) {
					t.Errorf("events %v, want %v", got, w.events)
				}
				if inv.Status() != w.status {
					t.Errorf("status %s, want %s", inv.Status(), w.status)
				}
				if got, want := inv.Version(), before.Snapshot.Version+int64(len(evs)); got != want {
					t.Errorf("version %d, want %d", got, want)
				}
				if !inv.UpdatedAt().Equal(t1) {
					t.Errorf("updated at %v, want %v", inv.UpdatedAt(), t1)
				}
			})
		}
	}
}

func TestIssue(t *testing.T) {
	inv := given(t, "draft")
	cet := time.FixedZone("CET", 3600)
	must(t, inv.Issue("INV-2025-0001", t1.In(cet)))
	if inv.Number() != "INV-2025-0001" || !inv.IssuedAt().Equal(t1) || inv.IssuedAt().Location() != time.UTC {
		t.Errorf("number %q issued at %v", inv.Number(), inv.IssuedAt())
	}
	evs := inv.PullEvents()
	e, ok := evs[0].(invoice.InvoiceIssued)
	if !ok || len(evs) != 1 {
		t.Fatalf("events %v, want one InvoiceIssued", typesOf(evs))
	}
	if e.Number != "INV-2025-0001" || e.Total != 1200 || e.AmountDue != 1200 || e.Subtotal != 1000 || e.Tax != 200 ||
		len(e.Lines) != 1 || e.Customer != customer || e.Currency != eur || !e.IssuedAt.Equal(t1) {
		t.Errorf("issued event %+v", e)
	}
}

func TestIssueRejects(t *testing.T) {
	free := invoice.LineInput{Description: "Free sample", Quantity: 3, UnitAmount: 0, TaxRateBPS: 2000}
	tests := []struct {
		name   string
		lines  []invoice.LineInput
		number string
		want   error
	}{
		{"no lines", nil, "INV-1", invoice.ErrEmptyInvoice},
		{"zero total", []invoice.LineInput{free}, "INV-1", invoice.ErrEmptyInvoice},
		{"blank number", []invoice.LineInput{consulting}, "", invoice.ErrInvalidNumber},
		{"spaces", []invoice.LineInput{consulting}, "   ", invoice.ErrInvalidNumber},
		{"leading space", []invoice.LineInput{consulting}, " INV-1", invoice.ErrInvalidNumber},
		{"trailing space", []invoice.LineInput{consulting}, "INV-1 ", invoice.ErrInvalidNumber},
		{"control", []invoice.LineInput{consulting}, "INV\n1", invoice.ErrInvalidNumber},
		{"65 runes", []invoice.LineInput{consulting}, strings.Repeat("№", 65), invoice.ErrInvalidNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newDraft(t, tt.lines...)
			before := observe(inv)
			wantCan := tt.want // the number is Issue's concern alone
			if tt.want == invoice.ErrInvalidNumber {
				wantCan = nil
			}
			if err := inv.CanIssue(); (wantCan == nil) != (err == nil) || !errors.Is(err, wantCan) {
				t.Fatalf("CanIssue = %v, want %v", err, wantCan)
			}
			if err := inv.Issue(tt.number, t1); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			assertUnchanged(t, before, inv)
		})
	}
	t.Run("not a draft", func(t *testing.T) {
		for _, state := range []string{"open", "paid", "void"} {
			if err := given(t, state).CanIssue(); !errors.Is(err, invoice.ErrInvalidTransition) {
				t.Errorf("CanIssue of a %s invoice = %v, want ErrInvalidTransition", state, err)
			}
		}
	})
	t.Run("64 runes", func(t *testing.T) {
		must(t, given(t, "draft").Issue(strings.Repeat("№", 64), t1))
	})
}

func TestVoid(t *testing.T) {
	inv := given(t, "open")
	must(t, inv.Void("duplicate of INV-0", t1))
	if inv.VoidReason() != "duplicate of INV-0" || !inv.VoidedAt().Equal(t1) || !inv.PaidAt().IsZero() {
		t.Errorf("reason %q voided at %v paid at %v", inv.VoidReason(), inv.VoidedAt(), inv.PaidAt())
	}
	evs := inv.PullEvents()
	if e, ok := evs[0].(invoice.InvoiceVoided); !ok || e.Number != "INV-1" || e.Reason != "duplicate of INV-0" || !e.VoidedAt.Equal(t1) {
		t.Errorf("events %+v", evs)
	}
}

func TestVoidReason(t *testing.T) {
	tests := []struct {
		name, reason string
		want         error
	}{
		{"one rune", "x", nil},
		{"500 runes", strings.Repeat("ü", 500), nil},
		{"501 runes", strings.Repeat("ü", 501), invoice.ErrInvalidReason},
		{"empty", "", invoice.ErrInvalidReason},
		{"blank", " \t ", invoice.ErrInvalidReason},
		{"control", "dup\x00", invoice.ErrInvalidReason},
		{"invalid UTF-8", "\xff", invoice.ErrInvalidReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := given(t, "open")
			before := observe(inv)
			if err := inv.Void(tt.reason, t1); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				assertUnchanged(t, before, inv)
			} else if inv.Status() != invoice.StatusVoid {
				t.Errorf("status %s, want void", inv.Status())
			}
		})
	}
}

func TestFormatNumberIsTheNumberingPolicy(t *testing.T) {
	if got := invoice.FormatNumber(2026, 42); got != "INV-2026-000042" {
		t.Fatalf("FormatNumber(2026, 42) = %s", got)
	}
	inv := given(t, "draft")
	must(t, inv.Issue(invoice.FormatNumber(9999, 999_999), t1)) // the largest is a valid number
	if inv.Number() != "INV-9999-999999" {
		t.Fatalf("number %s", inv.Number())
	}
}

func TestParseIDLeavesNotFoundToTheCaller(t *testing.T) {
	for _, s := range []string{"", "nope", "0190a6c2-7b3d-7c4e-8f00-00000000000", "{0190a6c2-7b3d-7c4e-8f00-000000000001}"} {
		if _, err := invoice.ParseID(s); !errors.Is(err, invoice.ErrInvalidID) {
			t.Errorf("ParseID(%q) = %v, want ErrInvalidID", s, err)
		}
		if _, err := invoice.ParseLineID(s); !errors.Is(err, invoice.ErrInvalidID) {
			t.Errorf("ParseLineID(%q) = %v, want ErrInvalidID", s, err)
		}
	}
	id := invoice.NewID()
	if got, err := invoice.ParseID(id.String()); err != nil || got != id {
		t.Fatalf("ParseID(%s) = %s, %v", id, got, err)
	}
}
