package invoicingpg

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// The write statements. Children and events are inserted with one statement
// each, whatever their number, by unnesting parallel arrays; WITH ORDINALITY
// and ORDER BY keep their order, so lines get increasing positions and events
// increasing outbox sequence numbers in the order the aggregate has them.
const (
	insertInvoiceSQL = `INSERT INTO invoices (id, tenant_id, number, status, currency, customer_name, customer_email,
    due_date, subtotal, tax, total, amount_paid, issued_at, paid_at, voided_at, void_reason, version, created_at, updated_at,
    metadata, marked_uncollectible_at, overdue_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint, $10::bigint, $11::bigint, $12::bigint, $13, $14, $15, $16,
    $17::bigint, $18, $19, $20::jsonb, $21, $22)`

	updateInvoiceSQL = `UPDATE invoices SET number = $4, status = $5, customer_name = $6, customer_email = $7,
    due_date = $8, subtotal = $9::bigint, tax = $10::bigint, total = $11::bigint, amount_paid = $12::bigint,
    issued_at = $13, paid_at = $14, voided_at = $15, void_reason = $16, version = $17::bigint, updated_at = $18,
    currency = $19, metadata = $20::jsonb, marked_uncollectible_at = $21, overdue_at = $22,
    pre_payment_credit = $23::bigint, post_payment_credit = $24::bigint
WHERE id = $1 AND tenant_id = $2 AND version = $3::bigint`

	// lockInvoiceSQL takes the row lock of an invoice about to be changed.
	// FOR NO KEY UPDATE is the lock the UPDATE of the row takes anyway, so
	// holding it from the load costs no upgrade, and it does not block the
	// foreign-key checks (FOR KEY SHARE) of rows inserted beside it.
	lockInvoiceSQL = `SELECT FROM invoices WHERE id = $1 AND tenant_id = $2 FOR NO KEY UPDATE`

	// lockTimeoutSQL bounds every lock wait of the rest of the transaction
	// (the invoice's row lock, a number counter's) to $1, a duration such
	// as '5000ms'; past it the statement fails with lock_not_available.
	lockTimeoutSQL = `SELECT set_config('lock_timeout', $1, true)`

	insertLinesSQL = `INSERT INTO invoice_lines (id, invoice_id, description, quantity, unit_amount, tax_rate_bps)
SELECT l.id, $1, l.description, l.quantity, l.unit_amount, l.tax_rate_bps
FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::bigint[], $6::integer[])
    WITH ORDINALITY AS l (id, description, quantity, unit_amount, tax_rate_bps, n)
ORDER BY l.n`

	deleteLinesSQL = `DELETE FROM invoice_lines WHERE invoice_id = $1 AND id = ANY($2::uuid[])`

	insertPaymentsSQL = `INSERT INTO payments (id, invoice_id, amount, reference, received_at)
SELECT p.id, $1, p.amount, p.reference, p.received_at
FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::timestamptz[])
    WITH ORDINALITY AS p (id, amount, reference, received_at, n)
ORDER BY p.n`

	// The trace ($8..$10) is the same for every event of a transaction: one
	// request caused them all.
	//
	// The data goes into data, as written, and into payload as jsonb, which
	// instances of the previous release read (migration 12).
	insertOutboxSQL = `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, data, payload, occurred_at,
    correlation_id, traceparent, tracestate)
SELECT e.event_id, e.tenant_id, e.aggregate_id, e.aggregate_version, e.event_type, e.data::json, e.data::jsonb, e.occurred_at,
    $8::text, $9::text, $10::text
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[])
    WITH ORDINALITY AS e (event_id, tenant_id, aggregate_id, aggregate_version, event_type, data, occurred_at, n)
ORDER BY e.n`
)

// queueChildren queues the statements that bring inv's stored lines and
// payments from the loaded ones (none for a new invoice) to inv's: insert
// new lines, delete removed ones, insert new payments. Lines and payments
// never change once stored, so nothing else is needed.
func queueChildren(b *pgx.Batch, inv *invoice.Invoice, loadedLines []invoice.LineInputWithID, loadedPayments []invoice.Payment) {
	id := [16]byte(inv.ID())

	kept := make(map[invoice.LineID]bool, len(loadedLines))
	for _, l := range loadedLines {
		kept[l.ID] = false
	}
	var ids [][16]byte
	var descs []string
	var qtys, units []int64
	var rates []int32
	for l := range inv.AllLines() {
		if _, loaded := kept[l.ID]; loaded {
			kept[l.ID] = true
			continue
		}
		ids = append(ids, [16]byte(l.ID))
		descs = append(descs, l.Description)
		qtys = append(qtys, l.Quantity)
		units = append(units, l.UnitAmount.Amount())
		rates = append(rates, int32(l.TaxRateBPS)) // 0..10,000, checked by the domain
	}
	if len(ids) > 0 {
		b.Queue(insertLinesSQL, id, ids, descs, qtys, units, rates)
	}
	var removed [][16]byte
	for _, l := range loadedLines { // loaded order, so the statement is deterministic
		if !kept[l.ID] {
			removed = append(removed, [16]byte(l.ID))
		}
	}
	if len(removed) > 0 {
		b.Queue(deleteLinesSQL, id, removed)
	}

	stored := make(map[invoice.PaymentID]bool, len(loadedPayments))
	for _, p := range loadedPayments {
		stored[p.ID] = true
	}
	var pids [][16]byte
	var amounts []int64
	var refs []string
	var received []time.Time
	for _, p := range inv.Payments() {
		if stored[p.ID] {
			continue
		}
		pids = append(pids, [16]byte(p.ID))
		amounts = append(amounts, p.Amount.Amount())
		refs = append(refs, p.Reference)
		received = append(received, p.ReceivedAt)
	}
	if len(pids) > 0 {
		b.Queue(insertPaymentsSQL, id, pids, amounts, refs, received)
	}
}

// recorded is an event of any aggregate, as the outbox stores it: the
// invoice's (invoice.Event) and the credit note's (creditnote.Event).
type recorded[ID ~[16]byte] interface {
	Type() string
	Meta() kernel.EventMeta
	AggregateID() ID
}

// queueOutbox queues the insert of events into the outbox, with the trace of
// the request that caused them; the payload is the event's JSON encoding, its
// public data contract. It fails only if an event cannot be encoded.
func queueOutbox[ID ~[16]byte, E recorded[ID]](b *pgx.Batch, events []E, trace outbox.Trace) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	ids, tenants, aggs := make([][16]byte, n), make([][16]byte, n), make([][16]byte, n)
	versions, types := make([]int64, n), make([]string, n)
	payloads, times := make([][]byte, n), make([]time.Time, n)
	for i, e := range events {
		payload, err := outbox.MarshalData(e)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.Type(), err)
		}
		m := e.Meta()
		ids[i], tenants[i], aggs[i] = [16]byte(m.ID), [16]byte(m.Tenant), [16]byte(e.AggregateID())
		versions[i], types[i], payloads[i], times[i] = m.Version, e.Type(), payload, m.OccurredAt
	}
	b.Queue(insertOutboxSQL, ids, tenants, aggs, versions, types, payloads, times,
		nullString(trace.CorrelationID), nullString(trace.TraceParent), nullString(trace.TraceState))
	return nil
}

// nullString maps "" to SQL NULL.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nullTime maps the zero time to SQL NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
