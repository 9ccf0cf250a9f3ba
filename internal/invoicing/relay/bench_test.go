package relay_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/kernel"
	"github.com/invoicing-dev/invoicing/internal/natstest"
)

// backlog is the number of committed events each benchmark iteration moves.
const backlog = 50_000

// benchPayload is an invoice.paid event's data, about 300 bytes; its
// CloudEvent is about 650 bytes.
const benchPayload = `{"invoice_id": "0190f7a8-0000-7000-8000-000000000003", "number": "INV-2026-000123",
"customer": {"name": "Acme Corporation", "email": "accounts.payable@acme.example"}, "currency": "EUR",
"total": 123456, "amount_paid": 123456, "paid_at": "2026-03-01T10:00:00.123456Z"}`

// seedBacklog replaces the outbox with n unpublished rows (via COPY),
// invoices of perInvoice events each. interleaved orders them as many
// concurrent invoices commit; otherwise each invoice's events are adjacent.
func seedBacklog(b testing.TB, h *harness, n, perInvoice int, interleaved bool) {
	ctx := context.Background()
	if _, err := h.pool.Exec(ctx, "TRUNCATE outbox, outbox_held"); err != nil {
		b.Fatal(err)
	}
	invoices := n / perInvoice
	aggs := make([]uuid.UUID, invoices)
	for i := range aggs {
		aggs[i] = uuid.New()
	}
	tenant, now := uuid.UUID(h.tenant), time.Now()
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		inv, ver := i/perInvoice, i%perInvoice
		if interleaved {
			inv, ver = i%invoices, i/invoices
		}
		i++
		return []any{uuid.New(), tenant, aggs[inv], int64(ver + 1), "invoice.paid", benchPayload, benchPayload, now}, nil
	})
	// Both data columns, as the repository writes them.
	cols := []string{"event_id", "tenant_id", "aggregate_id", "aggregate_version", "event_type", "data", "payload", "occurred_at"}
	if _, err := h.pool.CopyFrom(ctx, pgx.Identifier{"outbox"}, cols, src); err != nil {
		b.Fatal(err)
	}
	if _, err := h.pool.Exec(ctx, "VACUUM ANALYZE outbox"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRelayThroughput measures committed outbox rows → JetStream acks →
// rows marked published, for a backlog of 50,000 events, with the default
// relay config (batches of 500).
func BenchmarkRelayThroughput(b *testing.B) {
	for _, c := range []struct {
		name        string
		perInvoice  int
		interleaved bool
	}{
		{"10000_invoices_interleaved", 5, true},         // one round trip per batch
		{"100_events_per_invoice_adjacent", 100, false}, // a round trip per event of a batch's invoice
	} {
		b.Run(c.name, func(b *testing.B) {
			h := newHarness(b)
			h.log = slog.New(slog.DiscardHandler)
			ctx := context.Background()
			cpu := &cpuMeter{pool: h.pool}
			for b.Loop() {
				b.StopTimer()
				seedBacklog(b, h, backlog, c.perInvoice, c.interleaved)
				b.StartTimer()
				cpu.start(b)
				// The relay's own marks say when the backlog is out, not
				// a poll of the outbox: polled every few milliseconds
				// beside it, the backends serving the relay spend more
				// per event, which the meter would count as the relay's.
				m := untilMarked(backlog)
				r := h.start(ctx, relay.Config{Metrics: m}, invoicingnats.StreamConfig{}, nil)
				<-m.marked
				for h.anyUnpublished() {
					time.Sleep(5 * time.Millisecond)
				}
				b.StopTimer()
				cpu.stop(b)
				r.stop(b)
				b.StartTimer()
			}
			b.ReportMetric(float64(backlog*b.N)/b.Elapsed().Seconds(), "events/s")
			cpu.report(b, backlog*b.N)
		})
	}
}

// anyUnpublished reports whether an outbox row awaits publishing. It may
// be polled while the relay's CPU is measured, so it reads one entry of
// the index at the relay's position. Asked as a bare EXISTS, the planner
// scans the table from its start, through every row published, and the
// poll costs the database more than the relay's own statements.
func (h *harness) anyUnpublished() bool {
	var any bool
	err := h.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM outbox_held) OR EXISTS (SELECT 1 FROM (
    SELECT 1 FROM outbox o
    WHERE (o.txid, o.sequence) > ((SELECT txid FROM outbox_position WHERE partition = 0), (SELECT sequence FROM outbox_position WHERE partition = 0))
    ORDER BY o.txid, o.sequence LIMIT 1) first)`).Scan(&any)
	if err != nil {
		h.t.Fatal(err)
	}
	return any
}

// BenchmarkJetStreamAsyncPublish is the ceiling for the relay: 50,000 plain
// async publishes of a message the size of the relay's, each with a
// Nats-Msg-Id, waiting for all acks, on the same kind of server.
func BenchmarkJetStreamAsyncPublish(b *testing.B) {
	ctx := context.Background()
	h := &harness{t: b, log: slog.New(slog.DiscardHandler)}
	h.nats = natstest.New(b)
	var failed atomic.Int64
	js, err := jetstream.New(h.connect(), jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		b.Fatal(err)
	}
	if err := invoicingnats.EnsureStream(ctx, js, invoicingnats.StreamConfig{}); err != nil {
		b.Fatal(err)
	}
	body, err := cloudevent.Encode(outbox.EventRecord{ID: kernel.EventID(uuid.New()), Tenant: kernel.TenantID(uuid.New()), AggregateID: uuid.UUID(invoice.NewID()),
		Version: 4, Type: "invoice.paid", Payload: []byte(benchPayload), OccurredAt: time.Now(), Sequence: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("message body: %d bytes", len(body))
	cpu := &cpuMeter{}
	cpu.start(b)
	for b.Loop() {
		for range backlog {
			msg := &nats.Msg{Subject: "invoicing.invoice.paid", Data: body,
				Header: nats.Header{"Content-Type": []string{cloudevent.ContentType}}}
			if _, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(uuid.NewString()), jetstream.WithStallWait(10*time.Second)); err != nil {
				b.Fatal(err)
			}
		}
		<-js.PublishAsyncComplete()
	}
	cpu.stop(b)
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d publishes failed", n)
	}
	b.ReportMetric(float64(backlog*b.N)/b.Elapsed().Seconds(), "events/s")
	cpu.report(b, backlog*b.N)
}

// BenchmarkWake is what the after-commit hook adds to every writing request
// (instead of a pg_notify inside the transaction), from many goroutines.
func BenchmarkWake(b *testing.B) {
	r, err := relay.New(invoicingpg.NewOutbox(nil), invoicingpg.NewRelayLeadership(nil), &invoicingnats.Publisher{}, relay.Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Wake()
		}
	})
}
