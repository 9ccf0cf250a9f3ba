package invoice_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestEventMetadataOverALife(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute).In(cet) }
	id := invoice.NewID()
	inv, err := invoice.New(id, tenant, eur, customer, time.Time{}, nil, at(0))
	must(t, err)

	var evs []invoice.Event
	var nows []time.Time
	step := func(now time.Time, err error) {
		t.Helper()
		must(t, err)
		for _, e := range inv.PullEvents() {
			evs = append(evs, e)
			nows = append(nows, now)
		}
	}
	step(at(0), nil)
	line, err := inv.AddLine(consulting, at(1))
	step(at(1), err)
	step(at(2), inv.RemoveLine(line, at(2)))
	_, err = inv.AddLine(consulting, at(3))
	step(at(3), err)
	step(at(4), inv.Issue("INV-7", at(4)))
	step(at(5), inv.Pay(money(t, 200, eur), "a", at(5)))
	step(at(6), inv.Pay(money(t, 200, eur), "a", at(6))) // replay: nothing
	step(at(7), inv.Pay(money(t, 1000, eur), "b", at(7)))

	want := []string{
		invoice.TypeCreated, invoice.TypeLineAdded, invoice.TypeLineRemoved, invoice.TypeLineAdded,
		invoice.TypeIssued, invoice.TypePaymentRecorded, invoice.TypePaymentRecorded, invoice.TypePaid,
	}
	if got := typesOf(evs); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if inv.Version() != int64(len(evs)) {
		t.Errorf("version %d, want %d events", inv.Version(), len(evs))
	}
	seen := map[kernel.EventID]bool{}
	for i, e := range evs {
		m := e.Meta()
		if v := uuid.UUID(m.ID).Version(); v != 7 || seen[m.ID] {
			t.Errorf("event %d: id %s (version %d) is not a fresh UUIDv7", i, m.ID, v)
		}
		seen[m.ID] = true
		if m.Version != int64(i+1) {
			t.Errorf("event %d: version %d, want %d", i, m.Version, i+1)
		}
		if !m.OccurredAt.Equal(nows[i]) || m.OccurredAt.Location() != time.UTC {
			t.Errorf("event %d: occurred at %v, want %v in UTC", i, m.OccurredAt, nows[i])
		}
		if m.Tenant != tenant || e.AggregateID() != id {
			t.Errorf("event %d: tenant %s aggregate %s", i, m.Tenant, e.AggregateID())
		}
		if !slices.Contains(invoice.EventTypes, e.Type()) {
			t.Errorf("event %d: type %q not in EventTypes", i, e.Type())
		}
	}
	if ev := inv.PullEvents(); ev != nil {
		t.Errorf("second PullEvents = %v, want nothing", ev)
	}
}

func TestPullEventsReturnsAllSinceLastPull(t *testing.T) {
	inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, time.Time{}, nil, t0)
	must(t, err)
	_, err = inv.AddLine(consulting, t1)
	must(t, err)
	must(t, inv.Issue("INV-1", t1))
	must(t, inv.Pay(money(t, 1200, eur), "p", t1))
	evs := inv.PullEvents()
	want := []string{invoice.TypeCreated, invoice.TypeLineAdded, invoice.TypeIssued, invoice.TypePaymentRecorded, invoice.TypePaid}
	if got := typesOf(evs); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i, e := range evs {
		if e.Meta().Version != int64(i+1) {
			t.Errorf("event %d has version %d", i, e.Meta().Version)
		}
	}
	if inv.PullEvents() != nil {
		t.Error("PullEvents did not forget the events")
	}
}

func TestInvoicePaidJSON(t *testing.T) {
	inv := given(t, "open")
	paidAt := time.Date(2025, 3, 2, 10, 11, 12, 13, time.UTC)
	must(t, inv.Pay(money(t, 1200, eur), "pay-1", paidAt))
	evs := inv.PullEvents()
	if len(evs) != 2 || evs[1].Type() != invoice.TypePaid {
		t.Fatalf("events %v", typesOf(evs))
	}
	raw, err := json.Marshal(evs[1])
	must(t, err)
	var got map[string]any
	must(t, json.Unmarshal(raw, &got))

	want := map[string]any{
		"invoice_id":  inv.ID().String(),
		"number":      "INV-1",
		"customer":    map[string]any{"name": customer.Name, "email": customer.Email},
		"currency":    "EUR",
		"total":       float64(1200),
		"amount_paid": float64(1200),
		// amount_paid + pre_payment_credit = total; no credit notes here.
		"pre_payment_credit": float64(0),
		"paid_at":            "2025-03-02T10:11:12.000000013Z",
	}
	if !maps.EqualFunc(got, want, func(a, b any) bool { return jsonEqual(t, a, b) }) {
		t.Errorf("InvoicePaid data\n%s\nwant keys and values %v", raw, want)
	}
}

func TestEventDataHasNoEnvelope(t *testing.T) {
	inv := given(t, "open")
	must(t, inv.Void("dup", t1))
	raw, err := json.Marshal(inv.PullEvents()[0])
	must(t, err)
	var got map[string]any
	must(t, json.Unmarshal(raw, &got))
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"invoice_id", "number", "reason", "voided_at"}) {
		t.Errorf("InvoiceVoided keys %v", keys)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	x, err := json.Marshal(a)
	must(t, err)
	y, err := json.Marshal(b)
	must(t, err)
	return string(x) == string(y)
}

func TestCreatedAndIssuedCarryTheFirstMaxEventLinesAndTheCount(t *testing.T) {
	for _, n := range []int{0, 1, invoice.MaxEventLines, invoice.MaxEventLines + 1, invoice.MaxLines} {
		lines := make([]invoice.LineInput, n)
		for i := range lines {
			lines[i] = invoice.LineInput{Description: fmt.Sprintf("line %d", i), Quantity: 1, UnitAmount: int64(i + 1)}
		}
		inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, time.Time{}, lines, t0)
		must(t, err)
		if n == 0 {
			_, err = inv.AddLine(consulting, t1) // an invoice is issued with at least one line
			must(t, err)
		}
		must(t, inv.Issue("INV-1", t1))
		all := inv.Lines()
		for _, e := range inv.PullEvents() {
			var carried []invoice.LineData
			var count int
			switch e := e.(type) {
			case invoice.InvoiceCreated:
				carried, count = e.Lines, e.LineCount
				if count != n {
					t.Errorf("%d lines: created line_count %d", n, count)
				}
			case invoice.InvoiceIssued:
				carried, count = e.Lines, e.LineCount
				if count != len(all) {
					t.Errorf("%d lines: issued line_count %d, want %d", n, count, len(all))
				}
			default:
				continue
			}
			if want := min(count, invoice.MaxEventLines); len(carried) != want {
				t.Fatalf("%d lines: %s carries %d lines, want %d", n, e.Type(), len(carried), want)
			}
			for i, l := range carried {
				if l.ID != all[i].ID || l.Description != all[i].Description {
					t.Fatalf("%d lines: %s line %d is %s, want the invoice's line %d (%s)", n, e.Type(), i, l.ID, i, all[i].ID)
				}
			}
		}
	}
}
