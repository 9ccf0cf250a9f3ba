package invoicingnats

import (
	"context"
	"errors"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// maxBatch is the most messages one atomic batch carries: nats-server's
// default max_batch_size.
const maxBatch = 1000

// minAtomicBatch is the fewest messages that go as one atomic batch; fewer
// (a small call, as the relay's rounds at a low commit rate or of an
// invoice's many events in a row, or the last chunk of a large one) are
// published async. Measured with sync_interval: always, async vs one atomic
// batch per call (BenchmarkDurable; figures: docs/architecture.md, "The
// durable broker"): async wins at 5 messages a call, the batch from 16 on,
// since a batch costs the same few milliseconds whatever its size.
const minAtomicBatch = 16

// publishBatches sends msgs as atomic batches of at most maxBatch messages,
// all of them at once, and sets errs[i] to message i's outcome as Publish
// describes it.
//
// Tuning, measured (docs/benchmarks.md, "The durable broker"): with
// sync_interval: always, nats-server 2.12+ stores a whole atomic batch
// with one fsync where it fsyncs each async publish on its own, so batches
// move several times more events per second. Order within a call does not
// matter: the relay puts at most one event of an invoice in it.
//
// A batch is all or nothing. When the broker cannot be asked (disconnected,
// ack timeout, ctx done), every message of the batch gets that error. When
// the server rejects the batch, above all because it already holds one of
// its Nats-Msg-Ids (a batch re-sent after a crash, which the stream would
// deduplicate message by message but refuses as a batch), or because one
// message breaks a limit, the batch's messages are published again one by
// one, whose answers are per message: duplicates are acknowledged, the
// message at fault gets its own error, the others are stored.
func (p *Publisher) publishBatches(ctx context.Context, msgs []relay.Message, errs []error) {
	var wg sync.WaitGroup
	for start := 0; start < len(msgs); start += maxBatch {
		end := min(start+maxBatch, len(msgs))
		wg.Go(func() { p.publishBatch(ctx, msgs[start:end], errs[start:end]) })
	}
	wg.Wait()
}

// publishBatch publishes msgs as one atomic batch, as publishBatches says.
func (p *Publisher) publishBatch(ctx context.Context, msgs []relay.Message, errs []error) {
	if len(msgs) < minAtomicBatch { // a call's few, or the last chunk's
		p.publishAsync(ctx, msgs, errs)
		return
	}
	batch := make([]*nats.Msg, len(msgs))
	for i, m := range msgs {
		batch[i] = &nats.Msg{Subject: m.Subject, Data: m.Body, Header: header(m)}
	}
	actx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	// No flow control: the first message's ack would cost a round trip per
	// batch, and a batch the server refuses is published again anyway.
	_, err := jetstreamext.PublishMsgBatch(actx, p.js, batch, jetstreamext.BatchFlowControl{})
	if err == nil {
		return
	}
	if err = p.classify(err); errors.Is(err, relay.ErrUnavailable) {
		for i := range errs {
			errs[i] = err
		}
		return
	}
	p.publishAsync(ctx, msgs, errs)
}
