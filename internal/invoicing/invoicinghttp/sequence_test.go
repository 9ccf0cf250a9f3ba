package invoicinghttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay/relaytest"
)

// sequenceStart is where TestListEvents200PastSequence2To31 moves the outbox
// sequence: its events take 2^31-4, ..., 2^31+3, so the feed's pages of four
// end on each side of 2^31.
const sequenceStart = 1<<31 - 5

// The outbox sequence passes 2^31 after weeks at peak rate. Past it, a reader
// follows next_after across the boundary and on, and every event, in the feed
// and in an invoice's history, decodes with the official CloudEvents SDK, its
// sequence a decimal string.
func TestListEvents200PastSequence2To31(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	c.setSequence(t, sequenceStart)
	var first string
	for i := range 2 { // created, issued, payment_recorded, paid
		inv := c.newOpen(t, c.keyA)
		wantInvoice(t, c.do(t, "POST", "/v1/invoices/"+inv.ID+"/payments", c.keyA, map[string]any{"amount": 12000, "reference": fmt.Sprint("r", i)}), http.StatusOK)
		if i == 0 {
			first = inv.ID
		}
	}

	raw, last := c.followRaw(t, c.keyA, "", 0, 8)
	if last != sequenceStart+8 {
		t.Errorf("next_after %d after the last page, want %d", last, sequenceStart+8)
	}
	res := c.do(t, "GET", fmt.Sprintf("/v1/events?after=%d", last), c.keyA, nil)
	if res.status != http.StatusOK || string(res.body) != fmt.Sprintf("{\"data\":[],\"next_after\":%d}\n", last) {
		t.Errorf("caught up after %d: %d %s", last, res.status, res.body)
	}
	paid, next := c.follow(t, c.keyA, "&type=invoicing.invoice.paid", 1<<31, 1)
	if len(paid) != 1 || next != last {
		t.Errorf("paid events after 2^31: %+v, next_after %d; want one, and %d", paid, next, last)
	}
	for i, r := range raw {
		relaytest.WantSequence(t, r, sequenceStart+1+int64(i))
	}

	res = c.do(t, "GET", "/v1/invoices/"+first+"/events", c.keyA, nil)
	var history struct{ Data []json.RawMessage }
	if err := json.Unmarshal(res.body, &history); err != nil || res.status != http.StatusOK || len(history.Data) != 4 {
		t.Fatalf("history: %d %s", res.status, res.body)
	}
	for i, r := range history.Data {
		relaytest.WantSequence(t, r, sequenceStart+1+int64(i))
	}
}
