package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
)

// bookkeepingTimeout bounds marking a batch after its publishes. It runs even
// if ctx was cancelled (shutdown, lost lease) because the broker has already
// stored those events: recording that now spares a re-send later.
const bookkeepingTimeout = 10 * time.Second

// batch is records read from the store, encoded, to be sent in rounds.
type batch struct {
	recs     []Record
	msgs     []Message // msgs[i] is recs[i]'s, unset if it could not be encoded
	round    []int     // round[i] is recs[i]'s round: its place among its invoice's records
	rounds   int
	full     bool               // the read returned its limit
	held     map[uuid.UUID]bool // aggregates (invoices, credit notes) none of whose records is sent
	failures []Failure          // records that could not be encoded
	claimed  time.Time          // when the read returned, for the stage metrics
}

// read reads up to BatchSize pending records, leaving out skip, and encodes
// them. It returns nil if none is pending, or an error if the store fails,
// and what waits for an older transaction (see Lag).
//
// Pending returns each invoice's records in version order.
func (r *Relay) read(ctx context.Context, skip []int64) (*batch, Lag, error) {
	start := time.Now()
	recs, lag, err := r.store.Pending(ctx, r.cfg.BatchSize, skip)
	if err != nil || len(recs) == 0 {
		return nil, lag, err
	}
	claimed := time.Now()
	r.cfg.Metrics.Batch(len(recs))
	for _, rec := range recs {
		r.cfg.Metrics.Stage(StageWake, max(start.Sub(rec.OccurredAt), 0))
		r.cfg.Metrics.Stage(StageClaim, claimed.Sub(start))
	}
	b := &batch{recs: recs, msgs: make([]Message, len(recs)), round: make([]int, len(recs)),
		full: len(recs) == r.cfg.BatchSize, held: make(map[uuid.UUID]bool), claimed: claimed}
	depth := make(map[uuid.UUID]int, len(recs))
	for i, rec := range recs {
		b.round[i] = depth[rec.AggregateID]
		depth[rec.AggregateID]++
		b.rounds = max(b.rounds, b.round[i]+1)
		if b.held[rec.AggregateID] {
			continue
		}
		body, err := cloudevent.Encode(rec.EventRecord)
		if err != nil {
			b.held[rec.AggregateID] = true
			b.failures = append(b.failures, r.failure(rec, err))
			continue
		}
		b.msgs[i] = Message{Subject: cloudevent.Subject(rec.Type), ID: rec.ID.String(), Body: body,
			CorrelationID: rec.Trace.CorrelationID, TraceParent: rec.Trace.TraceParent, TraceState: rec.Trace.TraceState}
	}
	return b, lag, nil
}

// len returns how many records the read returned; 0 for a nil batch.
func (b *batch) len() int {
	if b == nil {
		return 0
	}
	return len(b.recs)
}

// empty reports whether nothing is left to send or record.
func (b *batch) empty() bool {
	return b == nil || len(b.recs) == 0 && len(b.failures) == 0
}

// hold removes the records of the invoices in held: their previous event,
// in the batch answered before this one, was not stored. They are recorded
// as left behind (see behind) and read again once their invoice is no
// longer held.
func (b *batch) hold(held map[uuid.UUID]bool) {
	if b == nil || len(held) == 0 {
		return
	}
	n := 0
	for i, rec := range b.recs {
		if held[rec.AggregateID] {
			b.failures = append(b.failures, Failure{Sequence: rec.Sequence, Behind: true})
			continue
		}
		b.recs[n], b.msgs[n], b.round[n] = rec, b.msgs[i], b.round[i]
		n++
	}
	b.recs, b.msgs, b.round = b.recs[:n], b.msgs[:n], b.round[:n]
}

// send starts sending b in rounds and returns its flight.
//
// Why rounds: PublishAsync keeps many messages in flight, and the broker may
// store one while rejecting or losing the one sent just before it. So a
// batch goes out in rounds: round k holds the k-th record of each invoice in
// the batch, and round k+1 is sent only after every answer of round k came
// back. An event thus leaves only once its invoice's previous event is known
// to be in the stream, whoever sent it; a rejected or unanswered event holds
// back the rest of its invoice, while other invoices go on. Across batches
// the same holds because a batch is sent only once the previous one is
// answered, less the invoices that batch held (see advance), and the store
// leaves out invoices with a failed earlier record. Because events are only
// ever sent after their predecessor is stored, a second relay running by
// mistake can add duplicates (dropped by the duplicate window) but never
// reorder an invoice. A batch of many invoices takes one round trip; only a
// burst on one invoice costs a round trip per event.
func (r *Relay) send(ctx context.Context, b *batch) *flight {
	f := &flight{seqs: make([]int64, len(b.recs)), full: b.full, done: make(chan struct{})}
	for i, rec := range b.recs {
		f.seqs[i] = rec.Sequence
	}
	go func() {
		defer close(f.done)
		f.out = r.rounds(ctx, b)
	}()
	return f
}

// rounds sends b round after round and returns what became of it.
func (r *Relay) rounds(ctx context.Context, b *batch) outcome {
	out := outcome{published: make([]int64, 0, len(b.recs)), acked: make([]time.Time, 0, len(b.recs)),
		failures: b.failures, held: b.held}
	idx := make([]int, 0, len(b.recs))
	msgs := make([]Message, 0, len(b.recs))
	for k := 0; k < b.rounds && out.outage == nil; k++ {
		idx, msgs = idx[:0], msgs[:0]
		for i, rec := range b.recs {
			if b.round[i] == k && !out.held[rec.AggregateID] {
				idx, msgs = append(idx, i), append(msgs, b.msgs[i])
			}
		}
		if len(msgs) == 0 {
			continue
		}
		start := time.Now()
		errs := r.pub.Publish(ctx, msgs)
		acked := time.Now()
		took := acked.Sub(start)
		stored, rejected, unavailable := 0, 0, 0
		for j, err := range errs {
			rec := b.recs[idx[j]]
			switch {
			case err == nil:
				stored++
				out.published = append(out.published, rec.Sequence)
				out.acked = append(out.acked, acked)
				r.cfg.Metrics.Stage(StageQueue, start.Sub(b.claimed))
				r.cfg.Metrics.Stage(StagePublish, took)
			case errors.Is(err, ErrUnavailable) || ctx.Err() != nil:
				unavailable++
				out.held[rec.AggregateID] = true
				if out.outage == nil {
					out.outage = err
				}
			default:
				rejected++
				out.held[rec.AggregateID] = true
				out.failures = append(out.failures, r.failure(rec, err))
			}
		}
		r.cfg.Metrics.Round(took, stored, rejected, unavailable)
	}
	if out.outage == nil {
		out.failures = behind(b, out)
	}
	return out
}

// behind returns out's failures plus one Behind failure for each record of
// b that was neither stored nor rejected: a record of an invoice whose
// earlier record in b was not stored (or could not be encoded). The store
// keeps it back with its invoice instead of treating it as unread. After an
// outage, the records not sent stay unread: the next read returns them.
func behind(b *batch, out outcome) []Failure {
	if len(out.published)+len(out.failures) == len(b.recs) {
		return out.failures
	}
	settled := make(map[int64]bool, len(out.published)+len(out.failures))
	for _, seq := range out.published {
		settled[seq] = true
	}
	for _, f := range out.failures {
		settled[f.Sequence] = true
	}
	failures := out.failures
	for _, rec := range b.recs {
		if !settled[rec.Sequence] {
			failures = append(failures, Failure{Sequence: rec.Sequence, Behind: true})
		}
	}
	return failures
}

// failure returns the failure record for rec's rejection by the broker,
// parking rec if this was its last allowed attempt, or at once if rec is too
// large for the broker: retrying cannot help until an operator raises the
// limit, and every retry would hold its invoice's later events longer.
func (r *Relay) failure(rec Record, err error) Failure {
	attempt := rec.Attempts + 1
	f := Failure{
		Sequence:   rec.Sequence,
		Err:        err.Error(),
		RetryAfter: backoff(attempt, r.cfg.BackoffMin, r.cfg.BackoffMax),
		Park:       attempt >= r.cfg.MaxAttempts || errors.Is(err, ErrTooLarge),
	}
	log := r.log.With("event_id", rec.ID, "sequence", rec.Sequence, "aggregate_id", rec.AggregateID,
		"type", rec.Type, "attempt", attempt, "err", err)
	if f.Park {
		r.cfg.Metrics.Parked()
		log.Error("relay: event parked; it and its invoice's later events wait for `outbox retry`")
	} else {
		log.Warn("relay: broker rejected event", "retry_after", f.RetryAfter)
	}
	return f
}

// bookkeep writes the batch's outcome to the store and returns its errors.
func (r *Relay) bookkeep(ctx context.Context, out outcome) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	// Failures first: the store may count a record as settled only once
	// it knows where a failed record went.
	if len(out.failures) > 0 {
		if err := r.store.RecordFailures(ctx, out.failures); err != nil {
			return fmt.Errorf("relay: record %d failures: %w", len(out.failures), err)
		}
	}
	return r.markPublished(ctx, out.published, out.acked)
}

// markPublished marks seqs published, acked[i] being when the broker stored
// seqs[i], and reports each record's StageMark. It returns nil at once if
// seqs is empty, or the store's error.
func (r *Relay) markPublished(ctx context.Context, seqs []int64, acked []time.Time) error {
	if len(seqs) == 0 {
		return nil
	}
	if err := r.store.MarkPublished(ctx, seqs); err != nil {
		return fmt.Errorf("relay: mark %d events published: %w", len(seqs), err)
	}
	marked := time.Now()
	for _, t := range acked {
		r.cfg.Metrics.Stage(StageMark, marked.Sub(t))
	}
	return nil
}
