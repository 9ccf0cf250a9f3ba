// Package invoice is the Invoice aggregate: its lifecycle, its money rules and
// the domain events it records. It is pure Go and does no I/O; the repository
// pulls the recorded events and commits them with the state (the outbox).
package invoice

import (
	"iter"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Limits on an invoice's contents.
const (
	MaxLines         = 500
	MaxDescription   = 500
	MaxQuantity      = 1_000_000
	MaxCustomerName  = 200
	MaxEmail         = 254
	MaxReference     = 255
	MaxReason        = 500
	MaxPayments      = 100
	MaxTaxRateBPS    = 10_000
	maxInvoiceNumber = 64
)

// Customer is who the invoice is addressed to.
type Customer struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Invoice is the aggregate root. Its state changes only through its behaviour
// methods, the ones that take the time of the change (now), one file per
// behaviour; each checks every invariant before it changes anything and
// records the events it raises.
type Invoice struct {
	id         ID
	tenant     kernel.TenantID
	number     string
	status     Status
	currency   kernel.Currency
	customer   Customer
	dueDate    time.Time // zero: none; otherwise midnight UTC
	lines      []Line
	payments   []Payment
	creditPre  int64 // credit notes' pre-payment credit, in currency's minor units
	creditPost int64 // their post-payment credit (refund due)
	issuedAt   time.Time
	paidAt     time.Time
	voidedAt   time.Time
	voidReason string
	version    int64

	metadata              Metadata  // nil: none (metadata.go)
	markedUncollectibleAt time.Time // zero: never written off (uncollectible.go)
	overdueAt             time.Time // zero: not (yet) recorded overdue (overdue.go)

	createdAt time.Time
	updatedAt time.Time

	events []Event
}

// New returns a draft invoice with the given lines and records InvoiceCreated.
// dueDate may be zero (no due date); otherwise its calendar date, read in its
// own location, is kept as midnight UTC, and must fall in the years
// MinDueYear to MaxDueYear (ParseDueDate reads one from text).
// It fails with a joined set of *failure.Error (one per field at fault) if any input is
// invalid; fields of lines are reported as "lines[i].field". opts add
// optional inputs (WithMetadata).
func New(id ID, tenant kernel.TenantID, currency kernel.Currency, customer Customer, dueDate time.Time, lines []LineInput, now time.Time, opts ...Option) (*Invoice, error) {
	now = now.UTC()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	metadata, errs := applyMetadata(nil, o.metadata)
	if _, err := kernel.NewMoney(0, currency); err != nil {
		errs = append(errs, err)
	}
	customer, cerrs := validCustomer(customer)
	errs = append(errs, cerrs...)
	if !dueDate.IsZero() && !dueDateInRange(toDate(dueDate)) {
		errs = append(errs, errDueDate())
	}
	if len(lines) > MaxLines {
		errs = append(errs, ErrTooManyLines.With("lines", "an invoice has at most %d lines", MaxLines))
	}
	inv := &Invoice{
		id:        id,
		tenant:    tenant,
		status:    StatusDraft,
		currency:  currency,
		customer:  customer,
		dueDate:   toDate(dueDate),
		metadata:  metadata,
		createdAt: now,
		updatedAt: now,
	}
	// Lines are checked whatever else is wrong, so the caller learns every bad
	// field at once; but not beyond MaxLines, so a huge request costs little.
	if len(lines) <= MaxLines {
		for i, in := range lines {
			l, err := newLine(LineID(newUUID()), in, currency)
			if err != nil {
				errs = append(errs, err.At(indexed("lines", i)))
				continue
			}
			inv.lines = append(inv.lines, l)
		}
	}
	var sub, tax, total kernel.Money
	if len(errs) == 0 {
		var err error
		if sub, tax, total, err = totals(inv.lines, currency); err != nil {
			errs = append(errs, kernel.ErrAmountOverflow.With("lines", "the invoice total is too large"))
		}
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	inv.record(InvoiceCreated{
		EventMeta:  inv.nextMeta(now),
		InvoiceRef: InvoiceRef{InvoiceID: id},
		Currency:   currency,
		Customer:   customer,
		DueDate:    inv.dueDateText(),
		Lines:      eventLines(inv.lines),
		LineCount:  len(inv.lines),
		Subtotal:   sub.Amount(),
		Tax:        tax.Amount(),
		Total:      total.Amount(),
		Metadata:   inv.Metadata(),
		CreatedAt:  now,
	})
	return inv, nil
}

// validCustomer returns c trimmed and one *failure.Error per invalid field.
func validCustomer(c Customer) (Customer, []error) {
	c.Name = strings.TrimSpace(c.Name)
	c.Email = strings.TrimSpace(c.Email)
	var errs []error
	if c.Name == "" || !utf8.ValidString(c.Name) || utf8.RuneCountInString(c.Name) > MaxCustomerName || kernel.HasControl(c.Name) {
		errs = append(errs, ErrInvalidCustomer.With("customer.name", "name is required, at most %d characters, without control characters", MaxCustomerName))
	}
	if !validEmail(c.Email) {
		errs = append(errs, ErrInvalidCustomer.With("customer.email", "email must be a plain address at a public host name, such as billing@example.com"))
	}
	return c, errs
}

func toDate(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (inv *Invoice) dueDateText() string {
	if inv.dueDate.IsZero() {
		return ""
	}
	return inv.dueDate.Format(time.DateOnly)
}

// ID returns the invoice's id.
func (inv *Invoice) ID() ID { return inv.id }

// Tenant returns the owning tenant.
func (inv *Invoice) Tenant() kernel.TenantID { return inv.tenant }

// Number returns the invoice number, empty until issued.
func (inv *Invoice) Number() string { return inv.number }

// Status returns the lifecycle status.
func (inv *Invoice) Status() Status { return inv.status }

// Currency returns the invoice's currency.
func (inv *Invoice) Currency() kernel.Currency { return inv.currency }

// Customer returns who the invoice is addressed to.
func (inv *Invoice) Customer() Customer { return inv.customer }

// DueDate returns the due date (midnight UTC), or the zero time if none.
func (inv *Invoice) DueDate() time.Time { return inv.dueDate }

// Lines returns a copy of the invoice's lines in the order they were added.
func (inv *Invoice) Lines() []Line { return append([]Line(nil), inv.lines...) }

// AllLines returns an iterator over the invoice's lines in the order they were
// added. Unlike Lines it copies nothing, for callers that only read each line
// once (such as rendering an invoice of hundreds of lines); it must not be used
// while the invoice changes.
func (inv *Invoice) AllLines() iter.Seq[Line] { return slices.Values(inv.lines) }

// LineCount returns the number of lines.
func (inv *Invoice) LineCount() int { return len(inv.lines) }

// Payments returns a copy of the recorded payments in the order received.
func (inv *Invoice) Payments() []Payment { return append([]Payment(nil), inv.payments...) }

// IssuedAt returns when the invoice was issued, or the zero time.
func (inv *Invoice) IssuedAt() time.Time { return inv.issuedAt }

// PaidAt returns when the invoice became paid, or the zero time.
func (inv *Invoice) PaidAt() time.Time { return inv.paidAt }

// VoidedAt returns when the invoice was voided, or the zero time.
func (inv *Invoice) VoidedAt() time.Time { return inv.voidedAt }

// VoidReason returns why the invoice was voided, or "".
func (inv *Invoice) VoidReason() string { return inv.voidReason }

// Version returns the number of events the invoice has recorded in its life;
// it is the optimistic-concurrency token.
func (inv *Invoice) Version() int64 { return inv.version }

// CreatedAt returns when the invoice was created.
func (inv *Invoice) CreatedAt() time.Time { return inv.createdAt }

// UpdatedAt returns when the invoice last changed.
func (inv *Invoice) UpdatedAt() time.Time { return inv.updatedAt }

// Totals are an invoice's derived amounts.
type Totals struct {
	Subtotal   kernel.Money // the sum of line amounts before tax
	Tax        kernel.Money // the sum of per-line taxes
	Total      kernel.Money // subtotal plus tax
	AmountPaid kernel.Money // the sum of recorded payments
	AmountDue  kernel.Money // total minus amount paid minus pre-payment credit
	// AmountCredited is the sum of the credit notes issued against the
	// invoice; RefundDue the part of it beyond what was due (post-payment).
	AmountCredited kernel.Money
	RefundDue      kernel.Money
}

// Totals returns all the invoice's derived amounts from one pass over its
// lines and one over its payments. A caller that needs more than one of them
// should call it rather than the single getters, each of which makes the
// passes anew.
func (inv *Invoice) Totals() Totals {
	// Cannot fail: every change of lines or payments checked that the sums fit
	// and that nothing is paid beyond the total.
	sub, tax, total, _ := totals(inv.lines, inv.currency)
	paid := inv.AmountPaid()
	// Cannot overflow either: paid plus pre-payment credit never passes the
	// total, nor does all credit.
	due := minor(total.Amount()-paid.Amount()-inv.creditPre, inv.currency)
	credited := minor(inv.creditPre+inv.creditPost, inv.currency)
	return Totals{Subtotal: sub, Tax: tax, Total: total, AmountPaid: paid, AmountDue: due,
		AmountCredited: credited, RefundDue: minor(inv.creditPost, inv.currency)}
}

// Subtotal returns the sum of line amounts before tax.
func (inv *Invoice) Subtotal() kernel.Money { return inv.Totals().Subtotal }

// Tax returns the sum of per-line taxes.
func (inv *Invoice) Tax() kernel.Money { return inv.Totals().Tax }

// Total returns subtotal plus tax.
func (inv *Invoice) Total() kernel.Money { return inv.Totals().Total }

// AmountPaid returns the sum of recorded payments.
func (inv *Invoice) AmountPaid() kernel.Money {
	paid := kernel.Zero(inv.currency)
	for _, p := range inv.payments {
		// Cannot overflow: every payment was checked against amount due.
		paid, _ = paid.Add(p.Amount)
	}
	return paid
}

// AmountDue returns total minus amount paid minus pre-payment credit.
func (inv *Invoice) AmountDue() kernel.Money { return inv.Totals().AmountDue }

// minor returns n minor units of c, a currency the invoice already checked
// (New and Rehydrate refuse an unknown one), so it cannot fail.
func minor(n int64, c kernel.Currency) kernel.Money {
	m, _ := kernel.NewMoney(n, c)
	return m
}
