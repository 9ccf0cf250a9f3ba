package invoicinghttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// cloudEvent is the part of a feed event the tests read.
type cloudEvent struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Subject        string `json:"subject"`
	TenantID       string `json:"tenantid"`
	Sequence       int64  `json:"sequence,string"`
	InvoiceVersion int64  `json:"invoiceversion"`
	Data           struct {
		Total      *int64 `json:"total"`
		AmountPaid *int64 `json:"amount_paid"`
		// Of invoice.credited; InvoiceID and Amount also of credit_note.issued.
		AmountCredited *int64 `json:"amount_credited"`
		RefundDue      *int64 `json:"refund_due"`
		InvoiceID      string `json:"invoice_id"`
		Amount         int64  `json:"amount"`
	} `json:"data"`
}

type feedPage struct {
	Data      []cloudEvent `json:"data"`
	NextAfter int64        `json:"next_after"`
}

// follow reads key's feed from after, page by page, until it has read want
// events, and returns them and the last next_after.
func (c *api) follow(t *testing.T, key, query string, after int64, want int) ([]cloudEvent, int64) {
	t.Helper()
	raw, after := c.followRaw(t, key, query, after, want)
	got := make([]cloudEvent, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &got[i]); err != nil {
			t.Fatalf("feed event %s: %v", r, err)
		}
	}
	return got, after
}

// followRaw is follow returning the events as served. The feed serves only
// events of transactions older than every running one (on the whole server),
// so a page can come back empty for a moment: followRaw polls, up to a
// deadline.
func (c *api) followRaw(t *testing.T, key, query string, after int64, want int) ([]json.RawMessage, int64) {
	t.Helper()
	var got []json.RawMessage
	deadline := time.Now().Add(15 * time.Second)
	for len(got) < want {
		res := c.do(t, "GET", fmt.Sprintf("/v1/events?after=%d&limit=4%s", after, query), key, nil)
		var p struct {
			Data      []json.RawMessage `json:"data"`
			NextAfter int64             `json:"next_after"`
		}
		if res.status != http.StatusOK || json.Unmarshal(res.body, &p) != nil {
			t.Fatalf("feed after %d: %d %s", after, res.status, res.body)
		}
		if len(p.Data) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("feed stalled after %d events of %d", len(got), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		got = append(got, p.Data...)
		after = p.NextAfter
	}
	return got, after
}

// Replaying the feed from 0 and applying the events rebuilds every invoice's
// status, amount_paid and credit (amount_credited, refund_due, so amount_due),
// write-offs included, and the credit notes issued against each; the
// tenants' feeds are disjoint.
func TestListEvents200RebuildsInvoices(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	pay := func(key, id string, amount int64, ref string) {
		wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+id+"/payments", key, map[string]any{"amount": amount, "reference": ref}), http.StatusOK)
	}
	c.newDraft(t, c.keyA)
	withLine := c.newDraft(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+withLine.ID+"/lines", c.keyA, map[string]any{"description": "x", "quantity": 2, "unit_amount": 50}), http.StatusCreated)
	partly := c.newOpen(t, c.keyA)
	pay(c.keyA, partly.ID, 5000, "p1")
	paid := c.newOpen(t, c.keyA)
	pay(c.keyA, paid.ID, 2000, "p2")
	pay(c.keyA, paid.ID, 10000, "p3")
	credit := func(key, id string, amount int64) {
		wantCreditNote(t, c.do(t, "POST", "/v1/invoices/"+id+"/credit_notes", key, map[string]any{"amount": amount, "reason": "order_change"}), http.StatusCreated)
	}
	credit(c.keyA, partly.ID, 1000) // pre-payment: 6000 still due
	credit(c.keyA, paid.ID, 3000)   // post-payment: refund due
	settled := c.newOpen(t, c.keyA)
	pay(c.keyA, settled.ID, 4000, "p4")
	credit(c.keyA, settled.ID, 10000) // 8000 settle it, 2000 are owed back
	voided := c.newOpen(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+voided.ID+"/void", c.keyA, map[string]any{"reason": "x"}), http.StatusOK)
	bPaid := c.newOpen(t, c.keyB)
	pay(c.keyB, bPaid.ID, 12000, "b1")
	// Written off after a partial payment; written off, then paid in full;
	// edited (metadata), which changes neither status nor amounts.
	written := c.newOpen(t, c.keyA)
	pay(c.keyA, written.ID, 3000, "w1")
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+written.ID+"/mark_uncollectible", c.keyA, nil), http.StatusOK)
	wantInvoice(t, c.do(t, "PATCH", "/v1/invoices/"+written.ID, c.keyA, map[string]any{"metadata": map[string]string{"dunning": "stopped"}}), http.StatusOK)
	recovered := c.newOpen(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+recovered.ID+"/mark_uncollectible", c.keyA, nil), http.StatusOK)
	pay(c.keyA, recovered.ID, 12000, "r1")
	credit(c.keyA, written.ID, 2000) // credit on a written-off invoice lowers what is still due

	tenantOf := func(key string) string {
		return c.tenantOfInvoice(t, map[string]string{c.keyA: paid.ID, c.keyB: bPaid.ID}[key])
	}
	type state struct {
		status                              string
		total, amountPaid, credited, refund int64
		creditNotes, creditNoteSum          int64 // from credit_note.issued
	}
	rebuild := func(key string) map[string]*state {
		want := c.eventsOfTenant(t, tenantOf(key))
		events, _ := c.follow(t, key, "", 0, want)
		if len(events) != want {
			t.Fatalf("read %d events, want %d", len(events), want)
		}
		invoices := map[string]*state{}
		seen := map[string]bool{}
		for _, e := range events {
			if seen[e.ID] || e.TenantID != tenantOf(key) {
				t.Fatalf("event %s repeated or of another tenant (%s)", e.ID, e.TenantID)
			}
			seen[e.ID] = true
			subject := e.Subject
			if e.Type == "invoicing.credit_note.issued" { // its subject is the credit note
				subject = e.Data.InvoiceID
			}
			s := invoices[subject]
			if s == nil {
				s = &state{}
				invoices[subject] = s
			}
			switch e.Type {
			case "invoicing.invoice.created":
				s.status = "draft"
			case "invoicing.invoice.issued":
				s.status = "open"
			case "invoicing.invoice.paid":
				s.status = "paid"
			case "invoicing.invoice.voided":
				s.status = "void"
			case "invoicing.invoice.marked_uncollectible":
				s.status = "uncollectible"
			case "invoicing.credit_note.issued":
				s.creditNotes++
				s.creditNoteSum += e.Data.Amount
			}
			if e.Data.AmountCredited != nil {
				s.credited, s.refund = *e.Data.AmountCredited, *e.Data.RefundDue
			}
			if e.Data.Total != nil {
				s.total = *e.Data.Total
			}
			if e.Data.AmountPaid != nil {
				s.amountPaid = *e.Data.AmountPaid
			}
		}
		return invoices
	}

	for _, key := range []string{c.keyA, c.keyB} {
		rebuilt := rebuild(key)
		p, err := c.listPage(key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rebuilt) != len(p.Data) {
			t.Fatalf("rebuilt %d invoices, the API has %d", len(rebuilt), len(p.Data))
		}
		for _, inv := range p.Data {
			got := rebuilt[inv.ID]
			if got == nil || got.status != inv.Status || got.amountPaid != inv.AmountPaid || got.total != inv.Total ||
				got.credited != inv.AmountCredited || got.refund != inv.RefundDue || got.creditNoteSum != got.credited ||
				got.total-got.amountPaid-(got.credited-got.refund) != inv.AmountDue {
				t.Errorf("invoice %s rebuilt as %+v, is %s paid %d total %d credited %d refund %d due %d", inv.ID, got,
					inv.Status, inv.AmountPaid, inv.Total, inv.AmountCredited, inv.RefundDue, inv.AmountDue)
			}
			if l := c.creditNotes(t, key, "/v1/invoices/"+inv.ID+"/credit_notes"); int64(len(l.Data)) != got.creditNotes {
				t.Errorf("invoice %s: %d credit notes in the feed, %d listed", inv.ID, got.creditNotes, len(l.Data))
			}
		}
	}
}

func TestListEvents200TypeFilterAndCursor(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": 12000, "reference": "r"}), http.StatusOK)
	all, last := c.follow(t, c.keyA, "", 0, 4) // created, issued, payment_recorded, paid

	paid, next := c.follow(t, c.keyA, "&type=invoicing.invoice.paid", 0, 1)
	if len(paid) != 1 || paid[0].Type != "invoicing.invoice.paid" || next != last {
		t.Fatalf("type filter: %+v, next_after %d; want the paid event and next_after %d (past the rest)", paid, next, last)
	}
	res := c.do(t, "GET", fmt.Sprintf("/v1/events?after=%d", last), c.keyA, nil)
	if string(res.body) != fmt.Sprintf("{\"data\":[],\"next_after\":%d}\n", last) {
		t.Fatalf("caught up: %s", res.body)
	}

	// Tenant B has no events: A's cursors are not B's, nor are bad values.
	for _, after := range []string{fmt.Sprint(all[0].Sequence), "-1"} {
		wantProblem(t, c.do(t, "GET", "/v1/events?after="+after, c.keyB, nil), http.StatusUnprocessableEntity, "invalid_cursor", "after")
	}
	wantProblem(t, c.invalid().do(t, "GET", "/v1/events?after=x", c.keyB, nil), http.StatusUnprocessableEntity, "invalid_cursor", "after")
	wantProblem(t, c.do(t, "GET", "/v1/events?type=invoice.paid", c.keyA, nil), http.StatusUnprocessableEntity, "invalid_event_type", "type")
	wantProblem(t, c.do(t, "GET", "/v1/events?limit=1001", c.keyA, nil), http.StatusUnprocessableEntity, "invalid_limit", "limit")
}

func TestInvoiceEvents200History(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/void", c.keyA, map[string]any{"reason": "x"}), http.StatusOK)

	res := c.do(t, "GET", "/v1/invoices/"+inv.ID+"/events", c.keyA, nil)
	var list struct{ Data []cloudEvent }
	if err := json.Unmarshal(res.body, &list); err != nil || res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var types []string
	for i, e := range list.Data {
		if e.InvoiceVersion != int64(i+1) || e.Subject != inv.ID {
			t.Errorf("event %d: version %d of %s", i, e.InvoiceVersion, e.Subject)
		}
		types = append(types, e.Type)
	}
	if fmt.Sprint(types) != "[invoicing.invoice.created invoicing.invoice.issued invoicing.invoice.voided]" {
		t.Errorf("history %v", types)
	}
	wantProblem(t, c.do(t, "GET", "/v1/invoices/"+inv.ID+"/events", c.keyB, nil), http.StatusNotFound, "invoice_not_found", "")
	wantProblem(t, c.do(t, "GET", "/v1/invoices/nope/events", c.keyA, nil), http.StatusNotFound, "invoice_not_found", "")
}

// A credit note's id is not an invoice's: its history is a 404, as GET
// /v1/invoices/{id} is, not the credit note's credit_note.issued (its
// invoiceversion counts the credit note's versions, not an invoice's).
func TestInvoiceEvents404CreditNoteID(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	cn := wantCreditNote(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/credit_notes", c.keyA, map[string]any{"amount": 100, "reason": "duplicate"}), http.StatusCreated)
	wantProblem(t, c.do(t, "GET", "/v1/invoices/"+cn.ID, c.keyA, nil), http.StatusNotFound, "invoice_not_found", "")
	wantProblem(t, c.do(t, "GET", "/v1/invoices/"+cn.ID+"/events", c.keyA, nil), http.StatusNotFound, "invoice_not_found", "")
}

func TestOpenAPI200Public(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	res := c.do(t, "GET", "/v1/openapi.yaml", "", nil)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/yaml" || len(res.body) < 1000 {
		t.Fatalf("GET /v1/openapi.yaml: %d %s, %d bytes", res.status, res.header.Get("Content-Type"), len(res.body))
	}
	res = c.invalid().do(t, "POST", "/v1/openapi.yaml", "", nil)
	if wantProblem(t, res, http.StatusMethodNotAllowed, "method_not_allowed", ""); res.header.Get("Allow") != "GET" {
		t.Errorf("Allow = %q, want GET", res.header.Get("Allow"))
	}
}
