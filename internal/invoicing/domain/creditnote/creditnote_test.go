package creditnote_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func ptr(n int64) *int64 { return &n }

// fields returns the fields of the *failure.Error values in err's tree.
func fields(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var f *failure.Error
		if errors.As(err, &f) {
			out = append(out, f.Field)
		}
	}
	walk(err)
	return out
}

func TestNewRequest(t *testing.T) {
	two := []creditnote.LineInput{{Description: "Refund of item 1", Amount: 300}, {Description: "Shipping", Amount: 200}}
	for _, tc := range []struct {
		name   string
		lines  []creditnote.LineInput
		amount *int64
		reason string
		memo   string
		want   int64    // amount, if valid
		fields []string // fields at fault, if not
	}{
		{name: "amount", amount: ptr(500), reason: "duplicate", want: 500},
		{name: "lines add up", lines: two, reason: "order_change", memo: "Sorry!", want: 500},
		{name: "every reason", amount: ptr(1), reason: "product_unsatisfactory", want: 1},
		{name: "fraudulent", amount: ptr(1), reason: "fraudulent", want: 1},
		{name: "neither lines nor amount", reason: "duplicate", fields: []string{"lines"}},
		{name: "both", lines: two, amount: ptr(500), reason: "duplicate", fields: []string{"lines"}},
		{name: "zero amount", amount: ptr(0), reason: "duplicate", fields: []string{"amount"}},
		{name: "negative line, blank description", lines: []creditnote.LineInput{{Description: " ", Amount: -5}},
			reason: "duplicate", fields: []string{"lines[0].description", "lines[0].amount"}},
		{name: "overflow", lines: []creditnote.LineInput{{Description: "a", Amount: 1 << 62}, {Description: "b", Amount: 1 << 62}},
			reason: "duplicate", fields: []string{"lines"}},
		{name: "unknown reason and long memo", amount: ptr(1), reason: "because", memo: strings.Repeat("x", 501),
			fields: []string{"reason", "memo"}},
		{name: "control characters in memo", amount: ptr(1), reason: "duplicate", memo: "a\x00b", fields: []string{"memo"}},
		{name: "too many lines", lines: make([]creditnote.LineInput, creditnote.MaxLines+1), reason: "duplicate", fields: []string{"lines"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := creditnote.NewRequest("EUR", tc.lines, tc.amount, tc.reason, tc.memo)
			if tc.fields == nil {
				if err != nil || req.Amount().Amount() != tc.want || req.Amount().Currency() != "EUR" {
					t.Fatalf("amount %v, err %v; want %d", req.Amount(), err, tc.want)
				}
				return
			}
			if got := fields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("fields at fault %v (err %v), want %v", got, err, tc.fields)
			}
			if failure.KindOf(err) != failure.Invalid {
				t.Fatalf("kind %v", failure.KindOf(err))
			}
		})
	}
}

// openInvoice returns an open invoice of 1200 EUR with 500 paid.
func openInvoice(t *testing.T) *invoice.Invoice {
	t.Helper()
	inv, err := invoice.New(invoice.NewID(), kernel.TenantID(uuid.New()), "EUR", invoice.Customer{Name: "Ada", Email: "ada@example.com"},
		time.Time{}, []invoice.LineInput{{Description: "Consulting", Quantity: 1, UnitAmount: 1200}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Issue("INV-2026-000001", t0); err != nil {
		t.Fatal(err)
	}
	paid, _ := kernel.NewMoney(500, "EUR")
	if err := inv.Pay(paid, "p1", t0); err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestIssueRecordsIssuedAndRehydrates(t *testing.T) {
	inv := openInvoice(t)
	req, err := creditnote.NewRequest("EUR", []creditnote.LineInput{{Description: "Broken part", Amount: 1000}}, nil, "product_unsatisfactory", "memo")
	if err != nil {
		t.Fatal(err)
	}
	id := creditnote.NewID()
	alloc, err := inv.Credit(uuid.UUID(id), "CN-2026-000001", req.Amount(), t0)
	if err != nil {
		t.Fatal(err)
	}
	cn, err := creditnote.Issue(id, inv, creditnote.FormatNumber(2026, 1), req, alloc, t0)
	if err != nil {
		t.Fatal(err)
	}
	if cn.Number() != "CN-2026-000001" || cn.InvoiceNumber() != "INV-2026-000001" || cn.Amount().Amount() != 1000 ||
		cn.Allocation().PrePayment.Amount() != 700 || cn.Allocation().PostPayment.Amount() != 300 || cn.Version() != 1 {
		t.Fatalf("credit note %+v", cn)
	}
	evs := cn.PullEvents()
	if len(evs) != 1 || evs[0].Type() != creditnote.TypeIssued || evs[0].AggregateID() != id || evs[0].Meta().Version != 1 ||
		evs[0].Meta().Tenant != inv.Tenant() {
		t.Fatalf("events %+v", evs)
	}
	data, _ := json.Marshal(evs[0])
	if !strings.Contains(string(data), `"pre_payment_amount":700`) || !strings.Contains(string(data), `"reason":"product_unsatisfactory"`) {
		t.Errorf("event data %s", data)
	}

	s := creditnote.Snapshot{ID: cn.ID(), Tenant: cn.Tenant(), InvoiceID: cn.InvoiceID(), InvoiceNumber: cn.InvoiceNumber(),
		Number: cn.Number(), Currency: cn.Currency(), Amount: 1000, PrePaymentAmount: 700, PostPaymentAmount: 300,
		Reason: cn.Reason(), Memo: cn.Memo(), IssuedAt: cn.IssuedAt(), Version: 1}
	for _, l := range cn.Lines() {
		s.Lines = append(s.Lines, creditnote.LineInput{Description: l.Description, Amount: l.Amount.Amount()})
	}
	back, err := creditnote.Rehydrate(s)
	if err != nil || !reflect.DeepEqual(back, cn) {
		t.Fatalf("Rehydrate = %+v, %v; want %+v", back, err, cn)
	}
	for name, edit := range map[string]func(*creditnote.Snapshot){
		"allocation short":   func(s *creditnote.Snapshot) { s.PostPaymentAmount = 299 },
		"lines disagree":     func(s *creditnote.Snapshot) { s.Amount, s.PrePaymentAmount = 1001, 701 },
		"unknown reason":     func(s *creditnote.Snapshot) { s.Reason = "whim" },
		"version 2":          func(s *creditnote.Snapshot) { s.Version = 2 },
		"huge post-payment":  func(s *creditnote.Snapshot) { s.PostPaymentAmount = 1 << 62 },
		"no invoice number":  func(s *creditnote.Snapshot) { s.InvoiceNumber = "" },
		"negative allocated": func(s *creditnote.Snapshot) { s.PrePaymentAmount, s.PostPaymentAmount = -1, 1001 },
	} {
		bad := s
		edit(&bad)
		if _, err := creditnote.Rehydrate(bad); !errors.Is(err, creditnote.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestIssueRefuses(t *testing.T) {
	inv := openInvoice(t)
	req, _ := creditnote.NewRequest("EUR", nil, ptr(100), "duplicate", "")
	pre, _ := kernel.NewMoney(100, "EUR")
	good := invoice.CreditAllocation{PrePayment: pre, PostPayment: kernel.Zero("EUR")}
	usd, _ := creditnote.NewRequest("USD", nil, ptr(100), "duplicate", "")
	for name, tc := range map[string]struct {
		number string
		req    creditnote.Request
		alloc  invoice.CreditAllocation
		want   error
	}{
		"blank number":         {number: " ", req: req, alloc: good, want: invoice.ErrInvalidNumber},
		"another currency":     {number: "CN-1", req: usd, alloc: good, want: kernel.ErrCurrencyMismatch},
		"allocation disagrees": {number: "CN-1", req: req, alloc: invoice.CreditAllocation{PrePayment: kernel.Zero("EUR"), PostPayment: kernel.Zero("EUR")}, want: creditnote.ErrAllocation},
	} {
		if _, err := creditnote.Issue(creditnote.NewID(), inv, tc.number, tc.req, tc.alloc, t0); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

func TestFormatNumberAndParse(t *testing.T) {
	if got := creditnote.FormatNumber(2026, 42); got != "CN-2026-000042" {
		t.Fatalf("FormatNumber = %q", got)
	}
	id := creditnote.NewID()
	if back, err := creditnote.ParseID(id.String()); err != nil || back != id {
		t.Fatalf("ParseID = %v, %v", back, err)
	}
	if _, err := creditnote.ParseID("nope"); !errors.Is(err, creditnote.ErrNotFound) {
		t.Fatalf("ParseID(nope) = %v", err)
	}
}

// A credit of lines that the invoice refuses blames the lines: the request
// sent no amount. A credit of an amount, and other errors, stay as they are.
func TestRequestBlame(t *testing.T) {
	inv := openInvoice(t) // 1200
	byLines, err := creditnote.NewRequest("EUR", []creditnote.LineInput{{Description: "a", Amount: 700}, {Description: "b", Amount: 600}}, nil, "duplicate", "")
	if err != nil {
		t.Fatal(err)
	}
	byAmount, err := creditnote.NewRequest("EUR", nil, ptr(1300), "duplicate", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		req  creditnote.Request
		want string
	}{{byLines, "lines"}, {byAmount, "amount"}} {
		err := tt.req.Blame(inv.CanCredit(tt.req.Amount()))
		var fe *failure.Error
		if !errors.Is(err, invoice.ErrCreditExceedsTotal) || !errors.As(err, &fe) || fe.Field != tt.want {
			t.Errorf("Blame(CanCredit(%d)) = %v, want credit_exceeds_total naming %q", tt.req.Amount().Amount(), err, tt.want)
		}
	}
	if err := byLines.Blame(invoice.ErrInvalidTransition); err != invoice.ErrInvalidTransition {
		t.Errorf("Blame(ErrInvalidTransition) = %v, want it unchanged", err)
	}
}
