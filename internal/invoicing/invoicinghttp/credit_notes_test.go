package invoicinghttp_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type creditNoteJSON struct {
	ID            string `json:"id"`
	Number        string `json:"number"`
	InvoiceID     string `json:"invoice_id"`
	InvoiceNumber string `json:"invoice_number"`
	Currency      string `json:"currency"`
	Lines         []struct {
		Description string `json:"description"`
		Amount      int64  `json:"amount"`
	} `json:"lines"`
	Amount            int64   `json:"amount"`
	PrePaymentAmount  int64   `json:"pre_payment_amount"`
	PostPaymentAmount int64   `json:"post_payment_amount"`
	Reason            string  `json:"reason"`
	Memo              *string `json:"memo"`
	IssuedAt          string  `json:"issued_at"`
}

func wantCreditNote(t *testing.T, res response, status int) creditNoteJSON {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d; body: %s", res.status, status, res.body)
	}
	var cn creditNoteJSON
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cn); err != nil {
		t.Fatalf("decode credit note: %v; body: %s", err, res.body)
	}
	return cn
}

type creditNoteListJSON struct {
	Data    []creditNoteJSON `json:"data"`
	HasMore bool             `json:"has_more"`
}

func (c *api) creditNotes(t *testing.T, key, path string) creditNoteListJSON {
	t.Helper()
	res := c.do(t, "GET", path, key, nil)
	var l creditNoteListJSON
	if res.status != http.StatusOK || json.Unmarshal(res.body, &l) != nil {
		t.Fatalf("GET %s: %d %s", path, res.status, res.body)
	}
	return l
}

// An open invoice of 12000 is paid 5000, then credited 4000 (pre-payment),
// then 5000 (3000 settle it, 2000 are owed back): amounts, statuses, numbers,
// Location, the reads by id and by invoice.
func TestIssueCreditNote201(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": 5000, "reference": "p1"}), http.StatusOK)
	path := "/v1/invoices/" + inv.ID + "/credit_notes"

	res := c.do(t, "POST", path, c.keyA, map[string]any{"amount": 4000, "reason": "order_change"})
	first := wantCreditNote(t, res, http.StatusCreated)
	if !strings.HasPrefix(first.Number, "CN-") || !strings.HasSuffix(first.Number, "-000001") || first.PrePaymentAmount != 4000 ||
		first.InvoiceNumber != *inv.Number || first.Memo != nil || len(first.Lines) != 0 || res.header.Get("Location") != "/v1/credit_notes/"+first.ID {
		t.Fatalf("first credit note %+v, Location %q", first, res.header.Get("Location"))
	}
	got := c.get(t, c.keyA, inv.ID)
	if got.Status != "open" || got.AmountDue != 3000 || got.AmountCredited != 4000 || got.RefundDue != 0 {
		t.Fatalf("after a pre-payment credit: %s due %d credited %d refund %d", got.Status, got.AmountDue, got.AmountCredited, got.RefundDue)
	}

	second := wantCreditNote(t, c.do(t, "POST", path, c.keyA, map[string]any{
		"lines":  []map[string]any{{"description": "Day 1 not delivered", "amount": 2500}, {"description": "Day 2", "amount": 2500}},
		"reason": "product_unsatisfactory", "memo": "Sorry about that.",
	}), http.StatusCreated)
	if !strings.HasSuffix(second.Number, "-000002") || second.Amount != 5000 || second.PrePaymentAmount != 3000 ||
		second.PostPaymentAmount != 2000 || len(second.Lines) != 2 || second.Memo == nil {
		t.Fatalf("second credit note %+v", second)
	}
	got = c.get(t, c.keyA, inv.ID)
	if got.Status != "paid" || got.AmountDue != 0 || got.AmountCredited != 9000 || got.RefundDue != 2000 || got.AmountPaid != 5000 || got.PaidAt == nil {
		t.Fatalf("after settling: %+v", got)
	}

	if back := wantCreditNote(t, c.do(t, "GET", "/v1/credit_notes/"+second.ID, c.keyA, nil), http.StatusOK); back.Number != second.Number || back.IssuedAt != second.IssuedAt {
		t.Errorf("GET = %+v, want %+v", back, second)
	}
	l := c.creditNotes(t, c.keyA, path)
	if len(l.Data) != 2 || l.Data[0].ID != second.ID || l.Data[1].ID != first.ID || l.HasMore {
		t.Errorf("invoice's credit notes %+v", l)
	}
	// Paging, newest first, over all of the tenant's.
	other := c.newOpen(t, c.keyA)
	third := wantCreditNote(t, c.do(t, "POST", "/v1/invoices/"+other.ID+"/credit_notes", c.keyA, map[string]any{"amount": 1, "reason": "fraudulent"}), http.StatusCreated)
	var seen []string
	for after := ""; ; {
		p := c.creditNotes(t, c.keyA, "/v1/credit_notes?limit=2"+after)
		for _, cn := range p.Data {
			seen = append(seen, cn.ID)
		}
		if !p.HasMore {
			break
		}
		after = "&starting_after=" + p.Data[len(p.Data)-1].ID
	}
	if strings.Join(seen, ",") != strings.Join([]string{third.ID, second.ID, first.ID}, ",") {
		t.Errorf("all credit notes %v", seen)
	}
	// The feed filters on the credit notes' event type as on any other.
	if events, _ := c.follow(t, c.keyA, "&type=invoicing.credit_note.issued", 0, 3); len(events) != 3 || events[0].Subject != first.ID {
		t.Errorf("credit_note.issued events %+v", events)
	}
	if l := c.creditNotes(t, c.keyB, "/v1/credit_notes"); len(l.Data) != 0 {
		t.Errorf("tenant B sees %d of A's credit notes", len(l.Data))
	}
}

// Twenty credit notes of 1000 at once on an invoice of 12000: the credited
// total never passes it, and equals the sum of the credit notes issued.
func TestIssueCreditNote20AtOnce(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.try("POST", "/v1/invoices/"+inv.ID+"/credit_notes", c.keyA, map[string]any{"amount": 1000, "reason": "duplicate"})
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = res.status
		}()
	}
	wg.Wait()
	created := 0
	for _, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusUnprocessableEntity: // credit_exceeds_total
		default:
			t.Errorf("status %d", st)
		}
	}
	got := c.get(t, c.keyA, inv.ID)
	l := c.creditNotes(t, c.keyA, "/v1/invoices/"+inv.ID+"/credit_notes?limit=100")
	var sum int64
	for _, cn := range l.Data {
		sum += cn.Amount
	}
	if created == 0 || len(l.Data) != created || sum != got.AmountCredited || got.AmountCredited > got.Total || got.AmountDue != got.Total-sum {
		t.Fatalf("%d created, %d listed summing to %d; invoice credited %d of %d, due %d", created, len(l.Data), sum, got.AmountCredited, got.Total, got.AmountDue)
	}
}

func TestIssueCreditNoteErrors(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	open := c.newOpen(t, c.keyA)
	draft := c.newDraft(t, c.keyA)
	void := c.newOpen(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+void.ID+"/void", c.keyA, map[string]any{"reason": "x"}), http.StatusOK)
	path := "/v1/invoices/" + open.ID + "/credit_notes"
	ok := map[string]any{"amount": 100, "reason": "duplicate"}

	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+draft.ID+"/credit_notes", c.keyA, ok), http.StatusConflict, "invalid_transition", "")
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+void.ID+"/credit_notes", c.keyA, ok), http.StatusConflict, "invalid_transition", "")
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+open.ID+"/credit_notes", c.keyB, ok), http.StatusNotFound, "invoice_not_found", "")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 12001, "reason": "duplicate"}), http.StatusUnprocessableEntity, "credit_exceeds_total", "amount")
	// Credited by lines, the request has no amount: the lines are at fault.
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"lines": []map[string]any{{"description": "a", "amount": 6001}, {"description": "b", "amount": 6000}}, "reason": "duplicate"}),
		http.StatusUnprocessableEntity, "credit_exceeds_total", "lines")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 0, "reason": "duplicate"}), http.StatusUnprocessableEntity, "invalid_amount", "amount")
	// What the spec forbids is sent through c.invalid(): only the answer is checked.
	wantProblem(t, c.invalid().do(t, "POST", path, c.keyA, map[string]any{"amount": 1}), http.StatusUnprocessableEntity, "missing_field", "reason")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"reason": "duplicate"}), http.StatusUnprocessableEntity, "lines_or_amount", "lines")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 1, "reason": "duplicate", "lines": []map[string]any{{"description": "x", "amount": 1}}}),
		http.StatusUnprocessableEntity, "lines_or_amount", "lines")
	wantProblem(t, c.invalid().do(t, "POST", path, c.keyA, map[string]any{"lines": []map[string]any{{"amount": 1}}, "reason": "duplicate"}),
		http.StatusUnprocessableEntity, "missing_field", "lines[0].description")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"lines": []map[string]any{{"description": "x", "amount": -1}}, "reason": "duplicate"}),
		http.StatusUnprocessableEntity, "invalid_amount", "lines[0].amount")
	wantProblem(t, c.invalid().do(t, "POST", path, c.keyA, map[string]any{"amount": 1, "reason": "whim", "memo": strings.Repeat("m", 501)}),
		http.StatusUnprocessableEntity, "invalid_credit_reason", "memo")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 1, "reason": "duplicate", "memo": "a\u0000b"}),
		http.StatusUnprocessableEntity, "invalid_memo", "memo")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"lines": []map[string]any{{"description": " ", "amount": 1}}, "reason": "duplicate"}),
		http.StatusUnprocessableEntity, "invalid_description", "lines[0].description")
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 1, "reason": "duplicate"}, "If-Match", `"v1"`),
		http.StatusPreconditionFailed, "version_mismatch", "If-Match")
	wantProblem(t, c.invalid().do(t, "POST", path, c.keyA, `{"amount": "1", "reason": "duplicate"}`), http.StatusBadRequest, "wrong_type", "amount")
	wantProblem(t, c.invalid().do(t, "POST", path, c.keyA, `{"amount": 1, "reason": "duplicate", "discount": 1}`), http.StatusBadRequest, "unknown_field", "discount")
	c.wantUnchanged(t, c.keyA, open)
	if n := c.rows(t, "credit_notes"); n != 0 {
		t.Fatalf("%d credit notes stored by refused requests", n)
	}

	wantProblem(t, c.do(t, "GET", "/v1/credit_notes/not-an-id", c.keyA, nil), http.StatusNotFound, "credit_note_not_found", "")
	wantProblem(t, c.do(t, "GET", "/v1/credit_notes/0197c0b2-4a1d-7c52-8b7e-3d9f6a2c8e41", c.keyA, nil), http.StatusNotFound, "credit_note_not_found", "")
	wantProblem(t, c.do(t, "GET", "/v1/invoices/0197c0b2-4a1d-7c52-8b7e-3d9f6a2c8e41/credit_notes", c.keyA, nil), http.StatusNotFound, "invoice_not_found", "")
	wantProblem(t, c.do(t, "GET", "/v1/credit_notes?limit=0", c.keyA, nil), http.StatusUnprocessableEntity, "invalid_limit", "limit")
	wantProblem(t, c.do(t, "GET", "/v1/credit_notes?starting_after=0197c0b2-4a1d-7c52-8b7e-3d9f6a2c8e41", c.keyA, nil),
		http.StatusUnprocessableEntity, "invalid_cursor", "starting_after")
	wantProblem(t, c.do(t, "GET", path+"?starting_after=nope", c.keyA, nil), http.StatusUnprocessableEntity, "invalid_cursor", "starting_after")
	cn := wantCreditNote(t, c.do(t, "POST", path, c.keyA, ok), http.StatusCreated)
	wantProblem(t, c.do(t, "GET", "/v1/credit_notes/"+cn.ID, c.keyB, nil), http.StatusNotFound, "credit_note_not_found", "")
	wantProblem(t, c.do(t, "POST", "/v1/invoices/"+open.ID+"/void", c.keyA, map[string]any{"reason": "x"}), http.StatusConflict, "invalid_transition", "")
	wantProblem(t, c.invalid().do(t, "DELETE", "/v1/credit_notes/"+cn.ID, c.keyA, nil), http.StatusMethodNotAllowed, "method_not_allowed", "")
}

// The same Idempotency-Key replays the first answer byte for byte and issues
// nothing more; If-Match with the invoice's current ETag lets it through.
func TestIssueCreditNoteIdempotentAndConditional(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	path := "/v1/invoices/" + inv.ID + "/credit_notes"
	body := map[string]any{"amount": 700, "reason": "duplicate"}
	first := c.do(t, "POST", path, c.keyA, body, "Idempotency-Key", "cn-1", "If-Match", `"v2"`)
	cn := wantCreditNote(t, first, http.StatusCreated)
	again := c.do(t, "POST", path, c.keyA, body, "Idempotency-Key", "cn-1")
	if again.status != http.StatusCreated || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
		again.header.Get("Location") != "/v1/credit_notes/"+cn.ID {
		t.Fatalf("replay: %d %s %v", again.status, again.body, again.header)
	}
	wantProblem(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 701, "reason": "duplicate"}, "Idempotency-Key", "cn-1"),
		http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
	if got := c.get(t, c.keyA, inv.ID); got.AmountCredited != 700 || got.Version != 3 {
		t.Fatalf("credited %d at version %d, want 700 at 3", got.AmountCredited, got.Version)
	}
}

// A written-off invoice takes credit notes: credit lowers what is still due,
// and settling all of it makes the invoice paid.
func TestIssueCreditNote201Uncollectible(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	inv := c.newOpen(t, c.keyA)
	wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/mark_uncollectible", c.keyA, nil), http.StatusOK)
	path := "/v1/invoices/" + inv.ID + "/credit_notes"
	wantCreditNote(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 2000, "reason": "order_change"}), http.StatusCreated)
	if got := c.get(t, c.keyA, inv.ID); got.Status != "uncollectible" || got.AmountDue != 10000 || got.AmountCredited != 2000 {
		t.Fatalf("after a credit: %s due %d credited %d", got.Status, got.AmountDue, got.AmountCredited)
	}
	wantCreditNote(t, c.do(t, "POST", path, c.keyA, map[string]any{"amount": 10000, "reason": "fraudulent"}), http.StatusCreated)
	if got := c.get(t, c.keyA, inv.ID); got.Status != "paid" || got.AmountDue != 0 || got.AmountCredited != 12000 || got.RefundDue != 0 {
		t.Fatalf("after settling: %s due %d credited %d refund %d", got.Status, got.AmountDue, got.AmountCredited, got.RefundDue)
	}
}
