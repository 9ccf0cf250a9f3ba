package invoicingpg

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// selectInvoices returns a query reading the invoices selected by from (a
// SELECT over invoices, with its own WHERE, ORDER BY and LIMIT) together with
// their lines and payments, one row per invoice.
//
// Lines and payments come from LATERAL subqueries in the same statement rather
// than from follow-up queries: one statement sees one snapshot, even in READ
// COMMITTED, so an invoice row is never paired with lines or payments of a
// later commit (which Rehydrate would rightly reject as corrupt). Each
// subquery is an index scan on (invoice_id, ...), as "= ANY($ids)" would be,
// and it saves the extra round trips.
func selectInvoices(from, orderBy string) string {
	return `SELECT ` + invoiceColumns + `
FROM (` + from + `) i` + linesOf("invoice_lines WHERE invoice_id = i.id") + paymentsOf + orderBy
}

// invoiceColumns are the columns invoiceRow.scan reads, over invoices
// aliased i, lines aliased l and payments aliased p.
const invoiceColumns = `i.id, i.tenant_id, i.number, i.status, i.currency, i.customer_name, i.customer_email,
       i.due_date, i.issued_at, i.paid_at, i.voided_at, i.void_reason, i.version, i.created_at, i.updated_at,
       i.metadata, i.marked_uncollectible_at, i.overdue_at,
       i.pre_payment_credit, i.post_payment_credit,
       l.ids, l.descriptions, l.quantities, l.unit_amounts, l.tax_rates,
       p.ids, p.amounts, p.refs, p.received`

// linesOf returns the LATERAL subquery l aggregating the lines of source, a
// FROM item over invoice_lines.
func linesOf(source string) string {
	return `
CROSS JOIN LATERAL (
    SELECT array_agg(id ORDER BY position) AS ids,
           array_agg(description ORDER BY position) AS descriptions,
           array_agg(quantity ORDER BY position) AS quantities,
           array_agg(unit_amount ORDER BY position) AS unit_amounts,
           array_agg(tax_rate_bps::bigint ORDER BY position) AS tax_rates
    FROM ` + source + `
) l`
}

// paymentsOf is the LATERAL subquery p aggregating the payments of invoice i.
const paymentsOf = `
CROSS JOIN LATERAL (
    SELECT array_agg(id ORDER BY received_at, id) AS ids,
           array_agg(amount ORDER BY received_at, id) AS amounts,
           array_agg(reference ORDER BY received_at, id) AS refs,
           array_agg(received_at ORDER BY received_at, id) AS received
    FROM payments WHERE invoice_id = i.id
) p`

var getSQL = selectInvoices(`SELECT * FROM invoices WHERE id = $1 AND tenant_id = $2`, "")

// invoiceRow is one row of selectInvoices.
type invoiceRow struct {
	id, tenant                          [16]byte
	number, voidReason                  *string
	status, currency, name, email       string
	dueDate, issuedAt, paidAt, voidedAt *time.Time
	version                             int64
	createdAt, updatedAt                time.Time
	metadata                            map[string]string
	markedUncollectibleAt, overdueAt    *time.Time
	preCredit, postCredit               int64

	lineIDs                           [][16]byte
	descriptions                      []string
	quantities, unitAmounts, taxRates []int64
	paymentIDs                        [][16]byte
	amounts                           []int64
	refs                              []string
	received                          []time.Time
}

func (r *invoiceRow) scan(row pgx.Row) error { return row.Scan(r.columns()...) }

// columns returns the destinations of invoiceColumns, in their order.
func (r *invoiceRow) columns() []any {
	return []any{&r.id, &r.tenant, &r.number, &r.status, &r.currency, &r.name, &r.email,
		&r.dueDate, &r.issuedAt, &r.paidAt, &r.voidedAt, &r.voidReason, &r.version, &r.createdAt, &r.updatedAt,
		&r.metadata, &r.markedUncollectibleAt, &r.overdueAt,
		&r.preCredit, &r.postCredit,
		&r.lineIDs, &r.descriptions, &r.quantities, &r.unitAmounts, &r.taxRates,
		&r.paymentIDs, &r.amounts, &r.refs, &r.received}
}

// snapshot converts the row for invoice.Rehydrate. It fails with an error
// wrapping invoice.ErrCorruptInvoice if the row cannot be a snapshot.
func (r *invoiceRow) snapshot() (invoice.Snapshot, error) {
	s := invoice.Snapshot{
		ID:         invoice.ID(r.id),
		Tenant:     kernel.TenantID(r.tenant),
		Number:     deref(r.number),
		Status:     invoice.Status(r.status),
		Currency:   kernel.Currency(r.currency),
		Customer:   invoice.Customer{Name: r.name, Email: r.email},
		DueDate:    utc(r.dueDate),
		IssuedAt:   utc(r.issuedAt),
		PaidAt:     utc(r.paidAt),
		VoidedAt:   utc(r.voidedAt),
		VoidReason: deref(r.voidReason),
		Version:    r.version,
		CreatedAt:  r.createdAt.UTC(),
		UpdatedAt:  r.updatedAt.UTC(),

		PrePaymentCredit:      r.preCredit,
		PostPaymentCredit:     r.postCredit,
		MarkedUncollectibleAt: utc(r.markedUncollectibleAt),
		OverdueAt:             utc(r.overdueAt),
	}
	if len(r.metadata) > 0 {
		s.Metadata = r.metadata
	}
	n := len(r.lineIDs)
	if len(r.descriptions) != n || len(r.quantities) != n || len(r.unitAmounts) != n || len(r.taxRates) != n {
		return s, fmt.Errorf("%w: invoice %s: line columns disagree in length", invoice.ErrCorruptInvoice, s.ID)
	}
	if n > 0 {
		s.Lines = make([]invoice.LineInputWithID, 0, n)
	}
	for i := range n {
		s.Lines = append(s.Lines, invoice.LineInputWithID{
			ID: invoice.LineID(r.lineIDs[i]),
			LineInput: invoice.LineInput{
				Description: r.descriptions[i], Quantity: r.quantities[i],
				UnitAmount: r.unitAmounts[i], TaxRateBPS: r.taxRates[i],
			},
		})
	}
	n = len(r.paymentIDs)
	if len(r.amounts) != n || len(r.refs) != n || len(r.received) != n {
		return s, fmt.Errorf("%w: invoice %s: payment columns disagree in length", invoice.ErrCorruptInvoice, s.ID)
	}
	if n > 0 {
		s.Payments = make([]invoice.Payment, 0, n)
	}
	for i := range n {
		amount, err := kernel.NewMoney(r.amounts[i], s.Currency)
		if err != nil {
			return s, fmt.Errorf("%w: invoice %s: payment %d: %v", invoice.ErrCorruptInvoice, s.ID, i, err)
		}
		s.Payments = append(s.Payments, invoice.Payment{
			ID: invoice.PaymentID(r.paymentIDs[i]), Amount: amount,
			Reference: r.refs[i], ReceivedAt: r.received[i].UTC(),
		})
	}
	return s, nil
}

// invoice rehydrates the row; see snapshot for its errors.
func (r *invoiceRow) invoice() (*invoice.Invoice, error) {
	s, err := r.snapshot()
	if err != nil {
		return nil, err
	}
	return invoice.Rehydrate(s)
}

// asCommitted returns inv as a later read will return it: PostgreSQL keeps
// microseconds, so the nanoseconds of timestamps set in this process are
// dropped (pgx truncates them when encoding). It fails only if inv breaks an
// invariant Rehydrate checks.
func asCommitted(inv *invoice.Invoice) (*invoice.Invoice, error) {
	if inMicroseconds(inv) {
		// The usual case, as app.SystemClock truncates: inv is already what
		// a read will return, and rebuilding it would re-derive every line.
		return inv, nil
	}
	s := invoice.Snapshot{
		ID: inv.ID(), Tenant: inv.Tenant(), Number: inv.Number(), Status: inv.Status(),
		Currency: inv.Currency(), Customer: inv.Customer(), DueDate: inv.DueDate(),
		IssuedAt: micro(inv.IssuedAt()), PaidAt: micro(inv.PaidAt()), VoidedAt: micro(inv.VoidedAt()),
		VoidReason: inv.VoidReason(), Version: inv.Version(),
		CreatedAt: micro(inv.CreatedAt()), UpdatedAt: micro(inv.UpdatedAt()),
		Metadata: inv.Metadata(), MarkedUncollectibleAt: micro(inv.MarkedUncollectibleAt()), OverdueAt: micro(inv.OverdueAt()),
		PrePaymentCredit: inv.PrePaymentCredit().Amount(), PostPaymentCredit: inv.RefundDue().Amount(),
	}
	s.Lines = make([]invoice.LineInputWithID, 0, inv.LineCount())
	for l := range inv.AllLines() {
		s.Lines = append(s.Lines, invoice.LineInputWithID{ID: l.ID, LineInput: invoice.LineInput{
			Description: l.Description, Quantity: l.Quantity,
			UnitAmount: l.UnitAmount.Amount(), TaxRateBPS: l.TaxRateBPS,
		}})
	}
	for _, p := range inv.Payments() {
		p.ReceivedAt = micro(p.ReceivedAt)
		s.Payments = append(s.Payments, p)
	}
	return invoice.Rehydrate(s)
}

func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// inMicroseconds reports whether every timestamp of inv is a whole number of
// microseconds, so that storing it loses nothing.
func inMicroseconds(inv *invoice.Invoice) bool {
	for _, t := range []time.Time{inv.IssuedAt(), inv.PaidAt(), inv.VoidedAt(), inv.CreatedAt(), inv.UpdatedAt(),
		inv.MarkedUncollectibleAt(), inv.OverdueAt()} {
		if t.Nanosecond()%1000 != 0 {
			return false
		}
	}
	for _, p := range inv.Payments() {
		if p.ReceivedAt.Nanosecond()%1000 != 0 {
			return false
		}
	}
	return true
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
