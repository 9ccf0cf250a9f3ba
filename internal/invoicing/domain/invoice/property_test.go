package invoice_test

import (
	"errors"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// machine drives an invoice through random commands and keeps a small model of
// what it should have done.
type machine struct {
	inv     *invoice.Invoice
	now     time.Time
	pulled  int64            // events pulled over the invoice's life
	paid    int              // InvoicePaid events among them
	overdue int              // InvoiceOverdue events among them
	refs    map[string]int64 // payment reference → amount recorded
	lineID  []invoice.LineID // every line id added, removed ones included
	// credited is the sum of the credits the invoice accepted.
	credited int64
}

func TestInvoiceStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		due := rapid.SampledFrom([]time.Time{{}, t0.AddDate(0, 0, 1)}).Draw(t, "due date")
		inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, due, nil, t0)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		m := &machine{inv: inv, now: t0, refs: map[string]int64{}}
		m.record(t, inv.PullEvents(), 0)
		t.Repeat(map[string]func(*rapid.T){
			"AddLine":    m.addLine,
			"RemoveLine": m.removeLine,
			"Issue":      m.issue,
			"Pay":        m.pay,
			"Void":       m.void,
			"Credit":     m.credit,
			"Uncollect":  m.markUncollectible,
			"Overdue":    m.markOverdue,
			"Edit":       m.edit,
			"Rehydrate":  m.rehydrate,
			"":           m.check,
		})
	})
}

// run applies cmd and checks what holds for every command: it fails with want
// (nil: succeeds), it records exactly the events wantTypes, and a failure or a
// no-op changes nothing at all.
func (m *machine) run(t *rapid.T, want error, wantTypes []string, cmd func(now time.Time) error) {
	m.now = m.now.Add(time.Minute)
	before := observe(m.inv)
	err := cmd(m.now)
	evs := m.inv.PullEvents()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if got := typesOf(evs); !slices.Equal(got, wantTypes) {
		t.Fatalf("events %v, want %v (err %v)", got, wantTypes, err)
	}
	if len(evs) == 0 {
		if after := observe(m.inv); !reflect.DeepEqual(before, after) {
			t.Fatalf("command without events changed the invoice:\nbefore %+v\nafter  %+v", before, after)
		}
	}
	m.record(t, evs, before.Snapshot.Version)
}

func (m *machine) record(t *rapid.T, evs []invoice.Event, version int64) {
	for i, e := range evs {
		if meta := e.Meta(); meta.Version != version+int64(i)+1 || !meta.OccurredAt.Equal(m.now) {
			t.Fatalf("event %s has version %d at %v, want %d at %v", e.Type(), meta.Version, meta.OccurredAt, version+int64(i)+1, m.now)
		}
		if e.Type() == invoice.TypePaid {
			m.paid++
		}
	}
	m.pulled += int64(len(evs))
}

func (m *machine) addLine(t *rapid.T) {
	in := invoice.LineInput{
		Description: rapid.SampledFrom([]string{"Consulting", "日本語", "", strings.Repeat("é", 501)}).Draw(t, "description"),
		Quantity:    rapid.OneOf(rapid.Int64Range(1, 10), rapid.Int64Range(-1, 1_000_001)).Draw(t, "quantity"),
		UnitAmount:  rapid.OneOf(rapid.Int64Range(0, 10_000), rapid.Int64Range(-1, 1<<50), rapid.Just(int64(maxI))).Draw(t, "unit"),
		TaxRateBPS:  rapid.OneOf(rapid.SampledFrom([]int64{0, 50, 2000, 10_000}), rapid.Int64Range(-1, 10_001)).Draw(t, "bps"),
	}
	var want error
	switch {
	case m.inv.Status() != invoice.StatusDraft:
		want = invoice.ErrInvalidTransition
	case len(m.inv.Lines()) >= invoice.MaxLines:
		want = invoice.ErrTooManyLines
	case in.Description == "" || len([]rune(in.Description)) > invoice.MaxDescription:
		want = invoice.ErrInvalidDescription
	case in.Quantity < 1 || in.Quantity > invoice.MaxQuantity:
		want = invoice.ErrInvalidQuantity
	case in.UnitAmount < 0:
		want = invoice.ErrInvalidAmount
	case in.TaxRateBPS < 0 || in.TaxRateBPS > invoice.MaxTaxRateBPS:
		want = kernel.ErrInvalidTaxRate
	case !newTotal(m.inv.Total().Amount(), in).IsInt64():
		want = kernel.ErrAmountOverflow
	}
	var id invoice.LineID
	m.run(t, want, types(want, invoice.TypeLineAdded), func(now time.Time) (err error) {
		id, err = m.inv.AddLine(in, now)
		return err
	})
	if want == nil {
		m.lineID = append(m.lineID, id)
	}
}

// newTotal returns total plus the amount and the half-up tax of line in, exactly.
func newTotal(total int64, in invoice.LineInput) *big.Int {
	amount := new(big.Int).Mul(big.NewInt(in.Quantity), big.NewInt(in.UnitAmount))
	tax := new(big.Int).Mul(amount, big.NewInt(in.TaxRateBPS))
	tax.Add(tax, big.NewInt(5_000)).Quo(tax, big.NewInt(10_000))
	return amount.Add(amount, tax).Add(amount, big.NewInt(total))
}

func (m *machine) removeLine(t *rapid.T) {
	id := invoice.LineID(invoice.NewID())
	if len(m.lineID) > 0 && rapid.Bool().Draw(t, "known line") {
		id = rapid.SampledFrom(m.lineID).Draw(t, "line")
	}
	var want error
	switch {
	case m.inv.Status() != invoice.StatusDraft:
		want = invoice.ErrInvalidTransition
	case !slices.ContainsFunc(m.inv.Lines(), func(l invoice.Line) bool { return l.ID == id }):
		want = invoice.ErrLineNotFound
	}
	m.run(t, want, types(want, invoice.TypeLineRemoved), func(now time.Time) error { return m.inv.RemoveLine(id, now) })
}

func (m *machine) issue(t *rapid.T) {
	number := rapid.SampledFrom([]string{"INV-1", "INV-2", "", " INV-3"}).Draw(t, "number")
	var want error
	switch {
	case m.inv.Status() != invoice.StatusDraft:
		want = invoice.ErrInvalidTransition
	case m.inv.Total().Amount() <= 0:
		want = invoice.ErrEmptyInvoice
	case strings.TrimSpace(number) != number || number == "":
		want = invoice.ErrInvalidNumber
	}
	m.run(t, want, types(want, invoice.TypeIssued), func(now time.Time) error { return m.inv.Issue(number, now) })
}

func (m *machine) pay(t *rapid.T) {
	ref := rapid.SampledFrom([]string{"r1", "r2", "r3", "r4"}).Draw(t, "reference")
	currency := rapid.SampledFrom([]kernel.Currency{eur, eur, eur, "USD"}).Draw(t, "currency")
	due := m.inv.AmountDue().Amount()
	over := min(due, maxI-2) + 1 // just above due, without wrapping
	prev, used := m.refs[ref]
	choices := []int64{due, max(due/2, 1), over, 0, -1}
	if used {
		choices = append(choices, prev, prev) // replays and conflicts
	}
	amount := rapid.OneOf(rapid.SampledFrom(choices), rapid.Int64Range(-1, over+1)).Draw(t, "amount")
	var want error
	wantTypes := []string{invoice.TypePaymentRecorded}
	switch {
	case currency != eur:
		want = kernel.ErrCurrencyMismatch
	case amount <= 0:
		want = invoice.ErrInvalidAmount
	case used && prev == amount:
		wantTypes = nil // idempotent replay
	case used:
		want = invoice.ErrReferenceConflict
	case m.inv.Status() != invoice.StatusOpen && m.inv.Status() != invoice.StatusUncollectible:
		want = invoice.ErrInvalidTransition
	case amount > due:
		want = invoice.ErrOverpayment
	case amount == due:
		wantTypes = append(wantTypes, invoice.TypePaid)
	}
	if want != nil {
		wantTypes = nil
	}
	m.run(t, want, wantTypes, func(now time.Time) error {
		amt, err := kernel.NewMoney(amount, currency)
		if err != nil {
			return err
		}
		return m.inv.Pay(amt, ref, now)
	})
	if want == nil && !used {
		m.refs[ref] = amount
	}
}

func (m *machine) void(t *rapid.T) {
	reason := rapid.SampledFrom([]string{"duplicate", "", "\x00"}).Draw(t, "reason")
	var want error
	switch {
	case reason != "duplicate":
		want = invoice.ErrInvalidReason
	case m.inv.Status() != invoice.StatusOpen && m.inv.Status() != invoice.StatusUncollectible, len(m.inv.Payments()) > 0, m.credited > 0:
		want = invoice.ErrInvalidTransition
	}
	m.run(t, want, types(want, invoice.TypeVoided), func(now time.Time) error { return m.inv.Void(reason, now) })
}

// rehydrate swaps the invoice for one rebuilt from its snapshot, as a
// repository would between two requests.
func (m *machine) rehydrate(t *rapid.T) {
	inv, err := invoice.Rehydrate(snapshotOf(m.inv))
	if err != nil || !reflect.DeepEqual(observe(inv), observe(m.inv)) || len(inv.PullEvents()) != 0 {
		t.Fatalf("Rehydrate (err %v) did not reproduce the invoice or recorded events", err)
	}
	m.inv = inv
}

func (m *machine) check(t *rapid.T) {
	inv := m.inv
	total, paid, due := inv.Total().Amount(), inv.AmountPaid().Amount(), inv.AmountDue().Amount()
	pre := inv.PrePaymentCredit().Amount()
	if paid < 0 || paid > total || due != total-paid-pre || due < 0 {
		t.Fatalf("paid %d, due %d, total %d, pre-payment credit %d", paid, due, total, pre)
	}
	issued := inv.Status() != invoice.StatusDraft
	if (inv.Status() == invoice.StatusPaid) != (issued && due == 0) {
		t.Fatalf("status %s with %d due", inv.Status(), due)
	}
	if issued != (inv.Number() != "") {
		t.Fatalf("status %s with number %q", inv.Status(), inv.Number())
	}
	if inv.Version() != m.pulled {
		t.Fatalf("version %d, but %d events pulled", inv.Version(), m.pulled)
	}
	if want := map[bool]int{true: 1, false: 0}[inv.Status() == invoice.StatusPaid]; m.paid != want {
		t.Fatalf("%d InvoicePaid events with status %s", m.paid, inv.Status())
	}
	m.checkWriteOff(t)
	m.checkCredit(t)
	if _, err := invoice.Rehydrate(snapshotOf(inv)); err != nil {
		t.Fatalf("Rehydrate of the current state: %v", err)
	}
}

// types returns [typ] if want is nil, else nothing.
func types(want error, typ string) []string {
	if want != nil {
		return nil
	}
	return []string{typ}
}
