package invoice_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Shared fixtures of the invoice tests.

const (
	eur  kernel.Currency = "EUR"
	maxI                 = math.MaxInt64
)

var (
	t0       = time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	t1       = t0.Add(time.Hour)
	tenant   = kernel.TenantID(uuid.MustParse("0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"))
	customer = invoice.Customer{Name: "Ada Lovelace", Email: "ada@example.com"}
	// consulting is the fixtures' only line: 2 × 500 + 20% tax = 1000 + 200 = 1200.
	consulting = invoice.LineInput{Description: "Consulting", Quantity: 2, UnitAmount: 500, TaxRateBPS: 2000}
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func money(t testing.TB, minor int64, c kernel.Currency) kernel.Money {
	t.Helper()
	m, err := kernel.NewMoney(minor, c)
	must(t, err)
	return m
}

// newDraft returns a draft with lines whose creation event was already pulled.
func newDraft(t testing.TB, lines ...invoice.LineInput) *invoice.Invoice {
	t.Helper()
	inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, time.Time{}, lines, t0)
	must(t, err)
	inv.PullEvents()
	return inv
}

// The states given returns an invoice in; "partly_paid" is open with 500 of 1200 paid;
// "uncollectible" was open when written off, "partly_uncollectible" partly paid;
// "paid_uncollectible" and "void_uncollectible" were written off first.
var states = []string{"draft", "open", "partly_paid", "paid", "void",
	"uncollectible", "partly_uncollectible", "paid_uncollectible", "void_uncollectible"}

// given returns a fresh invoice with one consulting line in state st, its events pulled.
func given(t testing.TB, st string) *invoice.Invoice {
	t.Helper()
	inv := newDraft(t, consulting)
	if st != "draft" {
		must(t, inv.Issue("INV-1", t0))
	}
	switch st {
	case "draft", "open":
	case "partly_paid":
		must(t, inv.Pay(money(t, 500, eur), "pay-1", t0))
	case "paid":
		must(t, inv.Pay(money(t, 1200, eur), "pay-1", t0))
	case "void":
		must(t, inv.Void("sent twice", t0))
	case "uncollectible":
		must(t, inv.MarkUncollectible(t0))
	case "partly_uncollectible":
		must(t, inv.Pay(money(t, 500, eur), "pay-1", t0))
		must(t, inv.MarkUncollectible(t0))
	case "paid_uncollectible":
		must(t, inv.MarkUncollectible(t0))
		must(t, inv.Pay(money(t, 1200, eur), "pay-1", t0))
	case "void_uncollectible":
		must(t, inv.MarkUncollectible(t0))
		must(t, inv.Void("written off, then cancelled", t0))
	default:
		t.Fatalf("unknown state %q", st)
	}
	inv.PullEvents()
	return inv
}

// snapshotOf is what a repository would store, read through the getters only.
func snapshotOf(inv *invoice.Invoice) invoice.Snapshot {
	s := invoice.Snapshot{
		ID: inv.ID(), Tenant: inv.Tenant(), Number: inv.Number(), Status: inv.Status(),
		Currency: inv.Currency(), Customer: inv.Customer(), DueDate: inv.DueDate(),
		Payments: inv.Payments(), IssuedAt: inv.IssuedAt(), PaidAt: inv.PaidAt(),
		VoidedAt: inv.VoidedAt(), VoidReason: inv.VoidReason(), Version: inv.Version(),
		CreatedAt: inv.CreatedAt(), UpdatedAt: inv.UpdatedAt(),
		PrePaymentCredit:  inv.PrePaymentCredit().Amount(),
		PostPaymentCredit: inv.RefundDue().Amount(),
		Metadata:          inv.Metadata(), MarkedUncollectibleAt: inv.MarkedUncollectibleAt(), OverdueAt: inv.OverdueAt(),
	}
	for _, l := range inv.Lines() {
		s.Lines = append(s.Lines, invoice.LineInputWithID{ID: l.ID, LineInput: invoice.LineInput{
			Description: l.Description, Quantity: l.Quantity, UnitAmount: l.UnitAmount.Amount(), TaxRateBPS: l.TaxRateBPS,
		}})
	}
	return s
}

// observed is everything a caller can see of an invoice, except pending events.
type observed struct {
	Snapshot                        invoice.Snapshot
	Lines                           []invoice.Line
	Subtotal, Tax, Total, Paid, Due kernel.Money
}

func observe(inv *invoice.Invoice) observed {
	return observed{snapshotOf(inv), inv.Lines(), inv.Subtotal(), inv.Tax(), inv.Total(), inv.AmountPaid(), inv.AmountDue()}
}

// assertUnchanged fails unless inv still looks like before and recorded no event.
func assertUnchanged(t testing.TB, before observed, inv *invoice.Invoice) {
	t.Helper()
	if after := observe(inv); !reflect.DeepEqual(before, after) {
		t.Errorf("invoice changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if ev := inv.PullEvents(); len(ev) != 0 {
		t.Errorf("recorded %v, want no event", typesOf(ev))
	}
}

func typesOf(evs []invoice.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type()
	}
	return out
}

// fieldsOf returns the fields of every *failure.Error in err's tree, in order.
func fieldsOf(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, fieldsOf(e)...)
		}
		return out
	}
	var e *failure.Error
	if errors.As(err, &e) {
		return []string{e.Field}
	}
	return nil
}

func TestNewRecordsCreated(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	due := time.Date(2025, 4, 1, 15, 4, 5, 0, cet)
	in := customer
	in.Name = "  Ada Lovelace  "
	inv, err := invoice.New(invoice.NewID(), tenant, eur, in, due, []invoice.LineInput{consulting, consulting}, t0.In(cet))
	must(t, err)

	if inv.Status() != invoice.StatusDraft || inv.Number() != "" || inv.Version() != 1 {
		t.Errorf("got status %s number %q version %d, want draft \"\" 1", inv.Status(), inv.Number(), inv.Version())
	}
	if got := inv.Customer(); got != customer {
		t.Errorf("customer %+v, want trimmed %+v", got, customer)
	}
	if want := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC); !inv.DueDate().Equal(want) {
		t.Errorf("due date %v, want %v", inv.DueDate(), want)
	}
	if !inv.CreatedAt().Equal(t0) || inv.CreatedAt().Location() != time.UTC {
		t.Errorf("created at %v, want %v in UTC", inv.CreatedAt(), t0)
	}
	evs := inv.PullEvents()
	if len(evs) != 1 {
		t.Fatalf("events %v, want [%s]", typesOf(evs), invoice.TypeCreated)
	}
	c, ok := evs[0].(invoice.InvoiceCreated)
	if !ok {
		t.Fatalf("event is %T, want InvoiceCreated", evs[0])
	}
	if c.InvoiceID != inv.ID() || c.Customer != customer || c.DueDate != "2025-04-01" || len(c.Lines) != 2 ||
		c.Subtotal != 2000 || c.Tax != 400 || c.Total != 2400 || !c.CreatedAt.Equal(t0) {
		t.Errorf("created event %+v", c)
	}
}

func TestNewReportsEveryBadField(t *testing.T) {
	bad := invoice.LineInput{Description: "x", Quantity: 0, UnitAmount: 1}
	line := func(mod func(*invoice.LineInput)) invoice.LineInput { l := consulting; mod(&l); return l }
	tests := []struct {
		name     string
		currency kernel.Currency
		customer invoice.Customer
		lines    []invoice.LineInput
		want     []string
		is       []error
	}{
		{"lower-case currency", "eur", customer, nil, []string{"currency"}, []error{kernel.ErrInvalidCurrency}},
		{"no name", eur, invoice.Customer{Name: " ", Email: customer.Email}, nil, []string{"customer.name"}, []error{invoice.ErrInvalidCustomer}},
		{"name with control", eur, invoice.Customer{Name: "Ada\tL", Email: customer.Email}, nil, []string{"customer.name"}, nil},
		{"name 201 runes", eur, invoice.Customer{Name: strings.Repeat("é", 201), Email: customer.Email}, nil, []string{"customer.name"}, nil},
		{"bad email", eur, invoice.Customer{Name: "Ada", Email: "ada@"}, nil, []string{"customer.email"}, nil},
		{"email with display name", eur, invoice.Customer{Name: "Ada", Email: "Ada <ada@example.com>"}, nil, []string{"customer.email"}, nil},
		{"email 255 bytes", eur, invoice.Customer{Name: "Ada", Email: strings.Repeat("a", 243) + "@example.com"}, nil, []string{"customer.email"}, nil},
		{"name and email", eur, invoice.Customer{Email: "nope"}, nil, []string{"customer.name", "customer.email"}, nil},
		{"third line", eur, customer, []invoice.LineInput{consulting, consulting, bad}, []string{"lines[2].quantity"}, []error{invoice.ErrInvalidQuantity}},
		{"two lines", eur, customer, []invoice.LineInput{
			line(func(l *invoice.LineInput) { l.Description = "" }),
			consulting,
			line(func(l *invoice.LineInput) { l.TaxRateBPS = 10_001 }),
			line(func(l *invoice.LineInput) { l.UnitAmount = -1 }),
		}, []string{"lines[0].description", "lines[2].tax_rate_bps", "lines[3].unit_amount"},
			[]error{invoice.ErrInvalidDescription, kernel.ErrInvalidTaxRate, invoice.ErrInvalidAmount}},
		{"currency and line", "XXX", customer, []invoice.LineInput{bad}, []string{"currency", "lines[0].quantity"}, nil},
		{"501 lines", eur, customer, slices.Repeat([]invoice.LineInput{consulting}, 501), []string{"lines"}, []error{invoice.ErrTooManyLines}},
		{"total overflows", eur, customer, []invoice.LineInput{
			{Description: "a", Quantity: 1, UnitAmount: 1 << 62}, {Description: "b", Quantity: 1, UnitAmount: 1 << 62},
		}, []string{"lines"}, []error{kernel.ErrAmountOverflow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := invoice.New(invoice.NewID(), tenant, tt.currency, tt.customer, time.Time{}, tt.lines, t0)
			if err == nil || inv != nil {
				t.Fatalf("New = %v, %v; want nil and an error", inv, err)
			}
			if got := fieldsOf(err); !slices.Equal(got, tt.want) {
				t.Errorf("fields %q, want %q (err: %v)", got, tt.want, err)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
			if k := failure.KindOf(err); k != failure.Invalid {
				t.Errorf("kind %s, want invalid", k)
			}
		})
	}
}

// Internet mail reaches public host names only: an address literal, a
// single label or a label that is not a host name would be mailed to an
// internal host, or nowhere.
func TestNewRefusesAddressesOutsideInternetMail(t *testing.T) {
	for _, email := range []string{
		"a@[127.0.0.1]", "a@[IPv6:::1]", "root@localhost", "a@b", "a@-x.com", "a@x-.com", "a@x..com", "a@example.com.",
		"a@127.0.0.1", "a@example.123", "a@under_score.example", "a@" + strings.Repeat("x", 64) + ".example",
		"a@bad‍.example",
	} {
		t.Run(email, func(t *testing.T) {
			_, err := invoice.New(invoice.NewID(), tenant, eur, invoice.Customer{Name: "Ada", Email: email}, time.Time{}, nil, t0)
			if got := fieldsOf(err); !slices.Equal(got, []string{"customer.email"}) || !errors.Is(err, invoice.ErrInvalidCustomer) {
				t.Errorf("New with %q: %v (fields %q), want invalid_customer naming customer.email", email, err, got)
			}
		})
	}
}

func TestNewAcceptsLimits(t *testing.T) {
	tests := map[string]invoice.Customer{
		"name 200 runes":            {Name: strings.Repeat("é", 200), Email: customer.Email},
		"email 254 bytes":           {Name: "Ada", Email: strings.Repeat("a", 242) + "@example.com"},
		"label 63 octets":           {Name: "Ada", Email: "a@" + strings.Repeat("x", 63) + ".example"},
		"internationalised domain":  {Name: "Ada", Email: "ada@bücher.example"},
		"its A-label":               {Name: "Ada", Email: "ada@xn--bcher-kva.example"},
		"non-ASCII local part":      {Name: "Zoë", Email: "zoë@example.com"},
		"upper case, hyphen, digit": {Name: "Ada", Email: "Ada@Mail-1.Example.COM"},
	}
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := invoice.New(invoice.NewID(), tenant, eur, c, time.Time{}, slices.Repeat([]invoice.LineInput{consulting}, 500), t0)
			must(t, err)
		})
	}
}

func TestErrorMatchesByCode(t *testing.T) {
	err := invoice.ErrInvalidQuantity.At("lines[2]")
	if err.Field != "lines[2]" || !errors.Is(err, invoice.ErrInvalidQuantity) || errors.Is(err, invoice.ErrInvalidAmount) {
		t.Errorf("At: %#v", err)
	}
	if got := failure.KindOf(errors.New("boom")); got != failure.Internal {
		t.Errorf("failure.KindOf(plain error) = %s, want internal", got)
	}
	if got := failure.KindOf(invoice.ErrReferenceConflict); got != failure.Conflict {
		t.Errorf("failure.KindOf(ErrReferenceConflict) = %s, want conflict", got)
	}
}
