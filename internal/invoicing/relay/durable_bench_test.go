package relay_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/kernel"
	"github.com/invoicing-dev/invoicing/internal/natstest"
)

// durableBacklog is the number of events each durable benchmark iteration
// moves: fewer than backlog, since a durable broker stores async publishes
// at the disk's fsync rate (about 1,000-3,000 a second here).
const durableBacklog = 20_000

// durableAsync is the number of messages of the async publish iteration:
// at the disk's fsync rate, a tenth of durableBacklog takes seconds.
const durableAsync = durableBacklog / 10

// BenchmarkDurable measures JetStream with sync_interval: always (each
// write fsynced before its ack, as compose ships nats-server) side by side,
// in one run: plain async publishes, plain atomic batches, and the relay
// moving a committed backlog through its Publisher (which sends atomic
// batches), on one server (as compose's default) and, prefixed r3_, on a
// three-node cluster with the stream at 3 replicas (compose's cluster
// profile), all in process. Run it with -benchtime 1x (bench/durable.sh
// does); the target is the relay at 10,000 events/s or more.
func BenchmarkDurable(b *testing.B) {
	body := durableBody(b)
	for _, br := range []durableBroker{
		{"", 1, []int{500, 1000}, func(b *testing.B) string { return natstest.New(b, natstest.SyncAlways()).URL() }},
		{"r3_", 3, []int{500}, func(b *testing.B) string { return natstest.NewCluster(b, 3, natstest.SyncAlways()).URL() }},
	} {
		b.Run(br.prefix+"raw_async", func(b *testing.B) { durableRawAsync(b, body, br) })
		for _, size := range br.sizes {
			b.Run(fmt.Sprintf("%sraw_batch_%d", br.prefix, size), func(b *testing.B) { durableRawBatches(b, body, br, size) })
		}
		for _, size := range br.sizes {
			b.Run(fmt.Sprintf("%srelay_batch_%d", br.prefix, size), func(b *testing.B) { durableRelay(b, br, size) })
		}
	}
}

// durableBroker is a JetStream deployment the benchmark measures.
type durableBroker struct {
	prefix   string                    // of the sub-benchmarks' names
	replicas int                       // of the stream
	sizes    []int                     // batch sizes measured
	start    func(b *testing.B) string // starts the servers, returns their URLs
}

// durableRawAsync publishes durableAsync messages with PublishAsync, at
// most 4,096 in flight, and waits for every ack.
func durableRawAsync(b *testing.B, body []byte, br durableBroker) {
	var failed atomic.Int64
	js, subject := durableStream(b, br, &failed)
	for b.Loop() {
		for range durableAsync {
			msg := &nats.Msg{Subject: subject, Data: body, Header: nats.Header{"Content-Type": []string{cloudevent.ContentType}}}
			if _, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(uuid.NewString()), jetstream.WithStallWait(time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		<-js.PublishAsyncComplete()
	}
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d publishes failed", n)
	}
	b.ReportMetric(float64(durableAsync*b.N)/b.Elapsed().Seconds(), "events/s")
}

// durableRawBatches publishes durableBacklog messages as atomic batches of
// size, one after another.
func durableRawBatches(b *testing.B, body []byte, br durableBroker, size int) {
	js, subject := durableStream(b, br, nil)
	for b.Loop() {
		for sent := 0; sent < durableBacklog; sent += size {
			batch := make([]*nats.Msg, min(size, durableBacklog-sent))
			for i := range batch {
				batch[i] = &nats.Msg{Subject: subject, Data: body, Header: nats.Header{
					"Content-Type": []string{cloudevent.ContentType}, nats.MsgIdHdr: []string{uuid.NewString()}}}
			}
			if _, err := jetstreamext.PublishMsgBatch(context.Background(), js, batch, jetstreamext.BatchFlowControl{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(durableBacklog*b.N)/b.Elapsed().Seconds(), "events/s")
}

// durableRelay runs the relay, batches of size, over a backlog of
// durableBacklog committed events of 4,000 invoices.
func durableRelay(b *testing.B, br durableBroker, size int) {
	h := newHarness(b)
	h.log = slog.New(slog.DiscardHandler)
	url := br.start(b)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		seedBacklog(b, h, durableBacklog, 5, true)
		nc, err := invoicingnats.Connect(ctx, url, h.log)
		if err != nil {
			b.Fatal(err)
		}
		pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{Replicas: br.replicas, AtomicBatches: true})
		if err != nil {
			b.Fatal(err)
		}
		r, err := relay.New(invoicingpg.NewOutbox(h.pool), invoicingpg.NewRelayLeadership(h.pool), pub, relay.Config{BatchSize: size}, h.log)
		if err != nil {
			b.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.StartTimer()
		go func() { done <- r.Run(rctx) }()
		for h.anyUnpublished() {
			time.Sleep(5 * time.Millisecond)
		}
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatalf("relay: %v", err)
		}
		nc.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(durableBacklog*b.N)/b.Elapsed().Seconds(), "events/s")
}

// durableStream starts br's servers and returns a JetStream context on
// them and a subject of a stream configured like INVOICING (EnsureStream:
// atomic batches allowed), at br's replicas. Failed async publishes are
// counted in failed, if not nil.
func durableStream(b *testing.B, br durableBroker, failed *atomic.Int64) (jetstream.JetStream, string) {
	nc, err := invoicingnats.Connect(context.Background(), br.start(b), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) {
			if failed != nil {
				failed.Add(1)
			}
		}))
	if err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// Connect returns before the connection is up.
		if err = invoicingnats.EnsureStream(context.Background(), js, invoicingnats.StreamConfig{Replicas: br.replicas, AtomicBatches: true}); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	return js, "invoicing.invoice.paid"
}

// durableBody is a CloudEvent the size of the relay's.
func durableBody(b *testing.B) []byte {
	body, err := cloudevent.Encode(outbox.EventRecord{ID: kernel.EventID(uuid.New()), Tenant: kernel.TenantID(uuid.New()), AggregateID: uuid.UUID(invoice.NewID()),
		Version: 4, Type: "invoice.paid", Payload: []byte(benchPayload), OccurredAt: time.Now(), Sequence: 1})
	if err != nil {
		b.Fatal(err)
	}
	return body
}
