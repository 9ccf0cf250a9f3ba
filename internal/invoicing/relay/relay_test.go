package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
)

func TestRelayPublishesCommittedEventsAsCloudEventsOnWakeUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	cfg := fastConfig()
	cfg.PollInterval = time.Minute // only the wake-up can move events in time
	r := h.start(ctx, cfg, invoicingnats.StreamConfig{}, nil)
	repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(r.Wake))
	eventually(t, 10*time.Second, "the relay created the stream", func() bool {
		_, err := h.js.Stream(ctx, invoicingnats.DefaultStream)
		return err == nil
	})
	time.Sleep(100 * time.Millisecond) // let it settle into its (one-minute) wait

	inv := h.newInvoice(repo)
	inv = h.update(repo, inv.ID(), func(inv *invoice.Invoice) error { return inv.Issue("INV-2026-0001", time.Now()) })
	committed := time.Now()
	inv = h.update(repo, inv.ID(), func(inv *invoice.Invoice) error { return inv.Pay(inv.AmountDue(), "txn-1", time.Now()) })
	var msgs []streamed
	eventually(t, 5*time.Second, "4 events are in the stream", func() bool { msgs = h.stream(); return len(msgs) == 4 })
	latency := time.Since(committed)
	if latency > 2*time.Second {
		t.Errorf("paid event took %s to reach the stream; the wake-up should move it in milliseconds", latency)
	}
	t.Logf("commit → stream: %s", latency)
	checkExactlyOnceInOrder(t, msgs, 4)
	for i, typ := range []string{"created", "issued", "payment_recorded", "paid"} {
		if want := "invoicing.invoice." + typ; msgs[i].Type != want || msgs[i].NATSSubject != want {
			t.Errorf("event %d: type %q on subject %q, want %q on both", i, msgs[i].Type, msgs[i].NATSSubject, want)
		}
	}

	var row struct {
		id               uuid.UUID
		seq              int64
		occurred         time.Time
		published, count int
	}
	// Marking runs beside the next read (see marking), so it may land a
	// moment after the acks: wait for it, briefly.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := h.pool.QueryRow(ctx, `SELECT event_id, sequence, occurred_at,
    (SELECT count(*) FROM outbox o, outbox_position p WHERE p.partition = 0 AND NOT ((o.txid, o.sequence) > (p.txid, p.sequence) OR EXISTS (SELECT 1 FROM outbox_held h WHERE h.sequence = o.sequence))),
    (SELECT count(*) FROM outbox)
FROM outbox WHERE aggregate_id = $1 AND aggregate_version = 4`, uuid.UUID(inv.ID())).
			Scan(&row.id, &row.seq, &row.occurred, &row.published, &row.count)
		if err != nil {
			t.Fatal(err)
		}
		if row.published == row.count || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if row.published != row.count {
		t.Errorf("%d of %d outbox rows marked published 5s after their acks", row.published, row.count)
	}
	paid := msgs[3]
	want := cloudevent.Event{
		SpecVersion: "1.0", ID: row.id.String(), Source: "/invoicing", Type: "invoicing.invoice.paid",
		Subject: inv.ID().String(), Time: row.occurred.UTC(), DataContentType: "application/json",
		TenantID: h.tenant.String(), Sequence: row.seq, InvoiceVersion: 4,
	}
	got := paid.Event
	got.Data = nil
	if !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC {
		t.Errorf("time = %s, want %s in UTC", got.Time, want.Time)
	}
	got.Time = want.Time
	if got.SpecVersion != want.SpecVersion || got.ID != want.ID || got.Source != want.Source || got.Type != want.Type ||
		got.Subject != want.Subject || got.DataContentType != want.DataContentType || got.TenantID != want.TenantID ||
		got.Sequence != want.Sequence || got.InvoiceVersion != want.InvoiceVersion {
		t.Errorf("envelope = %+v\nwant       %+v", got, want)
	}
	if id, ct := paid.Header.Get("Nats-Msg-Id"), paid.Header.Get("Content-Type"); id != want.ID || ct != cloudevent.ContentType {
		t.Errorf("headers Nats-Msg-Id %q, Content-Type %q; want %q, %q", id, ct, want.ID, cloudevent.ContentType)
	}

	var data struct {
		InvoiceID  string           `json:"invoice_id"`
		Number     string           `json:"number"`
		Customer   invoice.Customer `json:"customer"`
		Currency   string           `json:"currency"`
		Total      int64            `json:"total"`
		AmountPaid int64            `json:"amount_paid"`
		PaidAt     time.Time        `json:"paid_at"`
	}
	if err := json.Unmarshal(paid.Data, &data); err != nil {
		t.Fatalf("paid data: %v", err)
	}
	if data.InvoiceID != inv.ID().String() || data.Number != "INV-2026-0001" || data.Customer != inv.Customer() ||
		data.Currency != "EUR" || data.Total != inv.Total().Amount() || data.AmountPaid != inv.Total().Amount() ||
		!data.PaidAt.Truncate(time.Microsecond).Equal(inv.PaidAt().Truncate(time.Microsecond)) {
		t.Errorf("paid data = %+v, want the paid invoice %s (total %d)", data, inv.ID(), inv.Total().Amount())
	}
}

func TestRelayPublishesNothingOfARolledBackTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	r := h.start(ctx, fastConfig(), invoicingnats.StreamConfig{}, nil)
	repo := invoicingpg.NewInvoices(h.pool, invoicingpg.WithAfterCommit(r.Wake))
	inv := h.newInvoice(repo)

	// A use case that fails after changing the invoice: rolled back.
	_, err := repo.Update(ctx, h.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
		if err := addLine(1)(inv); err != nil {
			return app.Result{}, err
		}
		return app.Result{}, errors.New("changed my mind")
	})
	if err == nil {
		t.Fatal("Update with a failing function succeeded")
	}
	// A transaction that did insert an outbox row, then rolled back: its
	// sequence number is lost, leaving a gap the relay must not wait on.
	ghost := uuid.New()
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
VALUES ($1, $2, $3, 2, 'invoice.line_added', '{}', now())`, ghost, uuid.UUID(h.tenant), uuid.UUID(inv.ID()))
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	h.update(repo, inv.ID(), addLine(2))

	eventually(t, 5*time.Second, "both committed events are published", func() bool { return h.unpublished() == 0 })
	time.Sleep(3 * fastConfig().PollInterval) // a few more polls: nothing else may appear
	msgs := h.stream()
	checkExactlyOnceInOrder(t, msgs, 2)
	for _, m := range msgs {
		if m.ID == ghost.String() {
			t.Fatal("the rolled-back event was published")
		}
	}
}

func TestRelayKilledAfterAckLeavesOneCopyPerEventAfterRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	repo := invoicingpg.NewInvoices(h.pool)
	for i := range 10 {
		inv := h.newInvoice(repo)
		h.update(repo, inv.ID(), addLine(i))
	}
	// The relay reads only events of transactions older than every running
	// one, other tests' included: wait until all 20 are, so that its first
	// batch has them all.
	h.waitReadable()

	ctx, crash := context.WithCancel(context.Background())
	store := &crashingStore{Store: invoicingpg.NewOutbox(h.pool), crash: crash}
	first := h.start(ctx, fastConfig(), invoicingnats.StreamConfig{}, store)
	eventually(t, 10*time.Second, "the relay crashed", store.crashed.Load)
	first.stop(t)
	if got := len(h.stream()); got != 20 {
		t.Fatalf("stream holds %d events after the crash, want all 20 (acked)", got)
	}
	if n := h.unpublished(); n != 20 {
		t.Fatalf("%d rows unpublished after the crash, want 20 (never marked)", n)
	}

	h.start(context.Background(), fastConfig(), invoicingnats.StreamConfig{}, nil)
	eventually(t, 10*time.Second, "the restarted relay marked every row", func() bool { return h.unpublished() == 0 })
	checkExactlyOnceInOrder(t, h.stream(), 20)
}
