package relay_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay/relaytest"
)

// Past 2^31 (weeks of the outbox sequence at peak rate) the relay reads,
// publishes and marks events as before, and every one it publishes decodes
// with the official CloudEvents SDK, its sequence a decimal string.
func TestRelayPublishesPastSequence2To31(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	const start = 1<<31 - 3 // the events take 2^31-2, ..., 2^31+5
	if _, err := h.pool.Exec(ctx, "SELECT setval(pg_get_serial_sequence('outbox', 'sequence'), $1::bigint)", int64(start)); err != nil {
		t.Fatal(err)
	}
	repo := invoicingpg.NewInvoices(h.pool)
	for i := range 2 {
		inv := h.newInvoice(repo)
		h.update(repo, inv.ID(), func(inv *invoice.Invoice) error { return inv.Issue("INV-"+strconv.Itoa(i), time.Now()) })
		h.update(repo, inv.ID(), func(inv *invoice.Invoice) error { return inv.Pay(inv.AmountDue(), "txn", time.Now()) })
	}
	h.start(ctx, fastConfig(), invoicingnats.StreamConfig{}, nil)

	eventually(t, 10*time.Second, "the relay created the stream", func() bool {
		_, err := h.js.Stream(ctx, invoicingnats.DefaultStream)
		return err == nil
	})
	var msgs []streamed
	eventually(t, 10*time.Second, "8 events are in the stream", func() bool { msgs = h.stream(); return len(msgs) >= 8 })
	eventually(t, 10*time.Second, "every event is marked published", func() bool { return h.unpublished() == 0 })
	checkExactlyOnceInOrder(t, msgs, 8)
	seen := map[int64]bool{}
	for _, m := range msgs {
		seen[m.Sequence] = true
		relaytest.WantSequence(t, m.Raw, m.Sequence)
	}
	// The stream holds each invoice's events in order, not all events.
	for seq := int64(start + 1); seq <= start+8; seq++ {
		if !seen[seq] {
			t.Errorf("no event with sequence %d in the stream", seq)
		}
	}
}
