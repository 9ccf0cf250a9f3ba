package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"

	"github.com/google/uuid"
)

// workload drives one invoice at a time through a client: create, issue,
// then pay it in one of several ways, two of which race two payers.
type workload struct {
	c      *client
	ledger *ledger
	races  *raceStats
}

// raceStats counts the invoices two payers paid at once, by variant.
type raceStats struct {
	mu     sync.Mutex
	byKind map[string]int
}

func (r *raceStats) add(kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byKind[kind]++
}

// oneInvoice runs one invoice's life. It returns an error if a request gave
// up or got an answer the flow cannot explain.
func (w *workload) oneInvoice(ctx context.Context) error {
	inv, err := w.create(ctx)
	if err != nil {
		return err
	}
	if rand.IntN(100) < 3 {
		return nil // stays a draft: no number, no payment
	}
	inv, err = w.c.postInvoice(ctx, "/v1/invoices/"+inv.ID+"/issue", nil, http.StatusOK)
	if err != nil {
		return err
	}
	if inv.Number == nil || inv.Status != "open" {
		w.c.stats.unexpectedAnswer("issue %s: status %s number %v", inv.ID, inv.Status, inv.Number)
		return fmt.Errorf("issue %s: status %s", inv.ID, inv.Status)
	}
	w.ledger.issue(inv.ID, *inv.Number)

	switch p := rand.IntN(100); {
	case p < 5: // one partial payment; stays open
		_, err = w.pay(ctx, inv, 1+rand.Int64N(max(1, inv.AmountDue-1)))
	case p < 40: // in full, at once
		_, err = w.pay(ctx, inv, inv.AmountDue)
	case p < 82: // in two or three parts
		for parts := 1 + rand.IntN(2); parts > 0 && inv.AmountDue > 1 && err == nil; parts-- {
			inv, err = w.pay(ctx, inv, 1+rand.Int64N(inv.AmountDue-1))
		}
		if err == nil {
			_, err = w.pay(ctx, inv, inv.AmountDue)
		}
	default:
		err = w.race(ctx, inv)
	}
	return err
}

// create posts a draft with one to three random lines.
func (w *workload) create(ctx context.Context) (invoiceJSON, error) {
	type line struct {
		Description string `json:"description"`
		Quantity    int64  `json:"quantity"`
		UnitAmount  int64  `json:"unit_amount"`
		TaxRateBPS  int64  `json:"tax_rate_bps"`
	}
	lines := make([]line, 1+rand.IntN(3))
	for i := range lines {
		lines[i] = line{fmt.Sprintf("Item %d", i+1), 1 + rand.Int64N(5), 100 + rand.Int64N(20_000),
			[]int64{0, 700, 1900, 2000}[rand.IntN(4)]}
	}
	body, _ := json.Marshal(map[string]any{
		"customer": map[string]string{"name": "Customer " + uuid.NewString()[:8], "email": "billing@example.com"},
		"currency": "EUR", "due_date": "2026-12-31", "lines": lines,
	})
	inv, err := w.c.postInvoice(ctx, "/v1/invoices", body, http.StatusCreated)
	if err != nil {
		return inv, err
	}
	w.ledger.create(inv.ID, w.c.tenant)
	return inv, nil
}

// pay pays amount under a fresh reference and returns the invoice after it.
func (w *workload) pay(ctx context.Context, inv invoiceJSON, amount int64) (invoiceJSON, error) {
	return w.payRef(ctx, inv, amount, "psp_"+uuid.NewString())
}

func (w *workload) payRef(ctx context.Context, inv invoiceJSON, amount int64, ref string) (invoiceJSON, error) {
	body, _ := json.Marshal(map[string]any{"amount": amount, "reference": ref})
	after, err := w.c.postInvoice(ctx, "/v1/invoices/"+inv.ID+"/payments", body, http.StatusOK)
	if err != nil {
		return after, err
	}
	w.ledger.pay(after, ref, amount)
	return after, nil
}

// race has two payers pay inv at the same moment, each through its own
// requests and keys, in one of three ways:
//   - "full-twice": both pay the whole amount under different references;
//     exactly one may succeed, the other is an overpayment or finds the
//     invoice paid;
//   - "same-reference": both send the same payment (a provider's webhook
//     delivered twice); both succeed, one payment is recorded;
//   - "halves": each pays part, together the whole; both succeed.
func (w *workload) race(ctx context.Context, inv invoiceJSON) error {
	kinds := []string{"full-twice", "same-reference", "halves"}
	kind := kinds[rand.IntN(len(kinds))]
	if inv.AmountDue < 2 {
		kind = "same-reference"
	}
	w.races.add(kind)
	half := inv.AmountDue / 2
	refA, refB := "psp_"+uuid.NewString(), "psp_"+uuid.NewString()
	type payer struct {
		amount int64
		ref    string
	}
	payers := map[string][2]payer{
		"full-twice":     {{inv.AmountDue, refA}, {inv.AmountDue, refB}},
		"same-reference": {{inv.AmountDue, refA}, {inv.AmountDue, refA}},
		"halves":         {{half, refA}, {inv.AmountDue - half, refB}},
	}[kind]

	start := make(chan struct{})
	var wg sync.WaitGroup
	answers := make([]answer, 2)
	errs := make([]error, 2)
	for i, p := range payers {
		wg.Go(func() {
			body, _ := json.Marshal(map[string]any{"amount": p.amount, "reference": p.ref})
			<-start
			answers[i], errs[i] = w.c.post(ctx, "/v1/invoices/"+inv.ID+"/payments", body)
		})
	}
	close(start)
	wg.Wait()

	wins := 0
	for i, a := range answers {
		if errs[i] != nil {
			return errs[i]
		}
		switch {
		case a.status == http.StatusOK:
			var after invoiceJSON
			if err := json.Unmarshal(a.body, &after); err != nil {
				return fmt.Errorf("race %s on %s: %w", kind, inv.ID, err)
			}
			w.ledger.pay(after, payers[i].ref, payers[i].amount)
			wins++
		case kind == "full-twice" && (a.problemType() == "overpayment" || a.problemType() == "invalid_transition"):
		default:
			w.c.stats.unexpectedAnswer("race %s on %s: %d %s", kind, inv.ID, a.status, a.body)
			return fmt.Errorf("race %s on %s: %d %s", kind, inv.ID, a.status, a.body)
		}
	}
	if kind == "full-twice" && wins != 1 {
		w.c.stats.unexpectedAnswer("race full-twice on %s: %d payers succeeded, want 1", inv.ID, wins)
	}
	return nil
}
