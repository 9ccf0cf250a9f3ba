package relay_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/infra/nats"
	"github.com/invoicing-dev/invoicing/internal/infra/nats/natstest"
	"github.com/invoicing-dev/invoicing/internal/relay"
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
// in one run: plain async publishes, plain atomic batches of the relay's
// default batch size, and the relay moving a committed backlog through its
// Publisher. Run it with -benchtime 1x (bench/durable.sh does); the target
// is the relay at 10,000 events/s or more.
func BenchmarkDurable(b *testing.B) {
	body := durableBody(b)
	b.Run("raw_async", func(b *testing.B) {
		var failed atomic.Int64
		js, subject := durableStream(b, &failed)
		for b.Loop() {
			for range durableAsync {
				msg := &natsgo.Msg{Subject: subject, Data: body, Header: natsgo.Header{"Content-Type": []string{cloudevent.ContentType}}}
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
	})
	for _, size := range durableBatchSizes {
		b.Run(fmt.Sprintf("raw_batch_%d", size), func(b *testing.B) { durableRawBatches(b, body, size) })
	}
	for _, size := range durableBatchSizes {
		b.Run(fmt.Sprintf("relay_batch_%d", size), func(b *testing.B) { durableRelay(b, size) })
	}
}

// durableBatchSizes are the batch sizes measured: the relay's default
// (RELAY_BATCH_SIZE) and nats-server's largest atomic batch.
var durableBatchSizes = []int{500, 1000}

// durableRawBatches publishes durableBacklog messages as atomic batches of
// size, one after another.
func durableRawBatches(b *testing.B, body []byte, size int) {
	js, subject := durableStream(b, nil)
	for b.Loop() {
		for sent := 0; sent < durableBacklog; sent += size {
			batch := make([]*natsgo.Msg, min(size, durableBacklog-sent))
			for i := range batch {
				batch[i] = &natsgo.Msg{Subject: subject, Data: body, Header: natsgo.Header{
					"Content-Type": []string{cloudevent.ContentType}, natsgo.MsgIdHdr: []string{uuid.NewString()}}}
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
func durableRelay(b *testing.B, size int) {
	h := newHarness(b)
	h.log = slog.New(slog.DiscardHandler)
	h.nats = natstest.New(b, natstest.SyncAlways())
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		seedBacklog(b, h, durableBacklog, 5, true)
		b.StartTimer()
		r := h.start(ctx, relay.Config{BatchSize: size}, nats.StreamConfig{}, nil)
		for h.anyUnpublished() {
			time.Sleep(5 * time.Millisecond)
		}
		b.StopTimer()
		r.stop(b)
		b.StartTimer()
	}
	b.ReportMetric(float64(durableBacklog*b.N)/b.Elapsed().Seconds(), "events/s")
}

// durableStream starts a server with sync_interval: always and returns a
// JetStream context on it and a subject of a stream configured like
// INVOICING (EnsureStream: atomic batches allowed). Failed async publishes
// are counted in failed, if not nil.
func durableStream(b *testing.B, failed *atomic.Int64) (jetstream.JetStream, string) {
	h := &harness{t: b, log: slog.New(slog.DiscardHandler), nats: natstest.New(b, natstest.SyncAlways())}
	js, err := jetstream.New(h.connect(), jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *natsgo.Msg, error) {
			if failed != nil {
				failed.Add(1)
			}
		}))
	if err != nil {
		b.Fatal(err)
	}
	if err := nats.EnsureStream(context.Background(), js, nats.StreamConfig{}); err != nil {
		b.Fatal(err)
	}
	return js, "invoicing.invoice.paid"
}

// durableBody is a CloudEvent the size of the relay's.
func durableBody(b *testing.B) []byte {
	body, err := cloudevent.Encode(app.EventRecord{ID: invoice.EventID(uuid.New()), Tenant: invoice.TenantID(uuid.New()), InvoiceID: invoice.NewID(),
		Version: 4, Type: "invoice.paid", Payload: []byte(benchPayload), OccurredAt: time.Now(), Sequence: 1})
	if err != nil {
		b.Fatal(err)
	}
	return body
}
