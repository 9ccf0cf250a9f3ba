package faulttest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// verdict is what the invariant checker found: the figures of the run and
// one count per way an invariant can break. All break counts must be 0.
type verdict struct {
	Invoices, Issued, Paid, Payments, Events, StreamMessages int

	Lost          int // (1) committed events not in the stream
	Duplicated    int // (1) committed events in the stream more than once
	Phantom       int // (2) stream messages without a committed outbox row
	Mismatched    int // (2) messages whose Nats-Msg-Id, type, subject or version differ from their row
	OutOfOrder    int // (3) invoices whose events reached the stream out of version order
	VersionGaps   int // (3) invoices whose stream or outbox versions are not exactly 1..version
	PaidEvents    int // (4) invoices with paid status and not exactly one paid event, or one without paid status
	AckedMissing  int // (5) acknowledged creates, issues or payments not in the database
	SumMismatches int // (5) invoices whose amount_paid is not the sum of their payments
	NumberGaps    int // (6) missing or repeated invoice numbers per tenant and year
}

// broken returns the non-zero break counts, by name.
func (v verdict) broken() []string {
	var out []string
	for name, n := range map[string]int{
		"lost": v.Lost, "duplicated": v.Duplicated, "phantom": v.Phantom, "mismatched": v.Mismatched,
		"out of order": v.OutOfOrder, "version gaps": v.VersionGaps, "paid events": v.PaidEvents,
		"acknowledged but missing": v.AckedMissing, "amount_paid mismatches": v.SumMismatches,
		"number gaps": v.NumberGaps,
	} {
		if n != 0 {
			out = append(out, fmt.Sprintf("%s: %d", name, n))
		}
	}
	slices.Sort(out)
	return out
}

// check reads the database at dbURL and the whole INVOICING stream at
// natsURL and checks the six invariants against them and l.
func check(ctx context.Context, dbURL, natsURL string, l *ledger) (verdict, []string, error) {
	var v verdict
	// A few examples of each kind of break, for the failure report.
	var notes []string
	perKind := map[string]int{}
	note := func(format string, args ...any) {
		kind, _, _ := strings.Cut(format, ":")
		if perKind[kind]++; perKind[kind] <= 3 {
			notes = append(notes, fmt.Sprintf(format, args...))
		}
	}
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return v, nil, err
	}
	defer db.Close(context.Background())

	rows, err := queryOutbox(ctx, db)
	if err != nil {
		return v, nil, err
	}
	msgs, err := readStream(ctx, natsURL)
	if err != nil {
		return v, nil, err
	}
	v.Events, v.StreamMessages = len(rows), len(msgs)

	// (1) and (2): ids both ways.
	byID := make(map[string]outboxRow, len(rows))
	for _, r := range rows {
		byID[r.id] = r
	}
	seen := make(map[string]int, len(msgs))
	streamVersions := map[string][]int64{} // invoice → versions in stream order, first copies
	paidMsgs := map[string]int{}           // invoice → paid messages, every copy
	for _, m := range msgs {
		r, ok := byID[m.ce.ID]
		switch {
		case !ok:
			v.Phantom++
			note("phantom: %s %s v%d", m.ce.ID, m.ce.Type, m.ce.InvoiceVersion)
			continue
		case m.msgID != r.id || m.ce.Type != "invoicing."+r.typ || m.ce.Subject != r.invoice || m.ce.InvoiceVersion != r.version:
			v.Mismatched++
			note("mismatched: message %+v for row %+v", m, r)
		}
		seen[r.id]++
		if seen[r.id] == 1 {
			streamVersions[r.invoice] = append(streamVersions[r.invoice], r.version)
		}
		if r.typ == "invoice.paid" {
			paidMsgs[r.invoice]++
		}
	}
	outboxVersions := map[string][]int64{}
	for _, r := range rows {
		outboxVersions[r.invoice] = append(outboxVersions[r.invoice], r.version)
		switch n := seen[r.id]; {
		case n == 0:
			v.Lost++
			note("lost: %s %s of %s v%d", r.id, r.typ, r.invoice, r.version)
		case n > 1:
			v.Duplicated++
			note("duplicated: %d copies of %s %s of %s v%d", n, r.id, r.typ, r.invoice, r.version)
		}
	}

	invs, err := queryInvoices(ctx, db)
	if err != nil {
		return v, nil, err
	}
	v.Invoices = len(invs)
	for _, inv := range invs {
		// (3) order and gaps, in the stream and in the outbox.
		sv, ov := streamVersions[inv.id], outboxVersions[inv.id]
		if !slices.IsSorted(sv) {
			v.OutOfOrder++
			note("out of order: invoice %s versions %v", inv.id, sv)
		}
		slices.Sort(ov)
		if !isOneTo(slices.Sorted(slices.Values(sv)), inv.version) || !isOneTo(ov, inv.version) {
			v.VersionGaps++
			note("version gap: invoice %s at v%d, stream %v, outbox %v", inv.id, inv.version, sv, ov)
		}
		// (4) one paid event per paid invoice, none for the others.
		if (inv.status == "paid") != (paidMsgs[inv.id] == 1) || paidMsgs[inv.id] > 1 {
			v.PaidEvents++
			note("paid events: invoice %s is %s with %d paid messages", inv.id, inv.status, paidMsgs[inv.id])
		}
		if inv.number != "" {
			v.Issued++
		}
		if inv.status == "paid" {
			v.Paid++
		}
	}

	ack, err := checkAcknowledged(ctx, db, l, invs)
	if err != nil {
		return v, nil, err
	}
	v.AckedMissing = len(ack)
	for _, a := range ack {
		note("acknowledged but missing: %s", a)
	}
	if v.Payments, v.SumMismatches, err = checkSums(ctx, db); err != nil {
		return v, nil, err
	}
	var gaps []string
	v.NumberGaps, gaps = numberGaps(invs)
	for _, g := range gaps {
		note("numbers: %s", g)
	}
	return v, notes, nil
}

// isOneTo reports whether sorted is exactly 1, 2, ..., n.
func isOneTo(sorted []int64, n int64) bool {
	if int64(len(sorted)) != n {
		return false
	}
	for i, x := range sorted {
		if x != int64(i+1) {
			return false
		}
	}
	return true
}

// checkAcknowledged returns what l says clients were told and the database
// does not hold: invoices created, numbers given, payments recorded, paid
// states.
func checkAcknowledged(ctx context.Context, db *pgx.Conn, l *ledger, invs []invoiceRow) ([]string, error) {
	byID := make(map[string]invoiceRow, len(invs))
	for _, i := range invs {
		byID[i.id] = i
	}
	rs, err := db.Query(ctx, `SELECT invoice_id, reference, amount FROM payments`)
	if err != nil {
		return nil, err
	}
	stored := map[paymentKey]bool{}
	var k paymentKey
	var inv uuid.UUID
	_, err = pgx.ForEachRow(rs, []any{&inv, &k.reference, &k.amount}, func() error {
		k.invoice = inv.String()
		stored[k] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var missing []string
	for id := range l.created {
		if _, ok := byID[id]; !ok {
			missing = append(missing, "created invoice "+id)
		}
	}
	for id, n := range l.numbers {
		if byID[id].number != n {
			missing = append(missing, fmt.Sprintf("invoice %s issued as %s, stored as %q", id, n, byID[id].number))
		}
	}
	for p := range l.payments {
		if !stored[p] {
			missing = append(missing, fmt.Sprintf("payment %+v", p))
		}
	}
	for id := range l.paid {
		if byID[id].status != "paid" {
			missing = append(missing, fmt.Sprintf("invoice %s seen paid, stored %s", id, byID[id].status))
		}
	}
	slices.Sort(missing)
	return missing, nil
}

// checkSums returns the number of payments and of invoices whose amount_paid
// differs from the sum of their payments.
func checkSums(ctx context.Context, db *pgx.Conn) (payments, mismatches int, err error) {
	err = db.QueryRow(ctx, `SELECT (SELECT count(*) FROM payments),
  (SELECT count(*) FROM invoices i WHERE i.amount_paid <> coalesce((SELECT sum(p.amount) FROM payments p WHERE p.invoice_id = i.id), 0))`).
		Scan(&payments, &mismatches)
	return payments, mismatches, err
}

// numberGaps returns how many invoice numbers (INV-YYYY-NNNNNN) are out of
// place, each tenant's numbers of a year having to be exactly 1..n, and one
// line per tenant and year with any.
func numberGaps(invs []invoiceRow) (int, []string) {
	seqs := map[string][]int{} // tenant/year → numbers
	for _, i := range invs {
		if i.number == "" {
			continue
		}
		parts := strings.Split(i.number, "-")
		n, err := strconv.Atoi(parts[len(parts)-1])
		if len(parts) != 3 || err != nil {
			seqs["malformed"] = append(seqs["malformed"], 0)
			continue
		}
		key := i.tenant + "/" + parts[1]
		seqs[key] = append(seqs[key], n)
	}
	var out []string
	total := 0
	for key, ns := range seqs {
		slices.Sort(ns)
		bad := 0
		for i, n := range ns {
			if n != i+1 {
				bad++
			}
		}
		total += bad
		if bad > 0 {
			out = append(out, fmt.Sprintf("%s: %d of %d numbers out of place (%v...)", key, bad, len(ns), ns[:min(len(ns), 10)]))
		}
	}
	slices.Sort(out)
	return total, out
}
