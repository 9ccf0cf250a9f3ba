package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/invoicing-dev/invoicing/internal/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// bookkeepingTimeout bounds marking a batch after its publishes. It runs even
// if ctx was cancelled (shutdown, lost lease) because the broker has already
// stored those events: recording that now spares a re-send later.
const bookkeepingTimeout = 10 * time.Second

// relayBatch relays one batch of pending records and returns how many it
// read. It returns an error if the store fails or the broker is unavailable;
// records the broker rejects become failures in the store, not errors here.
// *prev is the previous batch's marking, if still running: relayBatch waits
// for it before its own bookkeeping, and leaves in *prev the marking of this
// batch when it could pipeline it (every record acknowledged).
//
// Why rounds: PublishAsync keeps many messages in flight, and the broker may
// store one while rejecting or losing the one sent just before it. So a
// batch goes out in rounds: round k holds the k-th record of each invoice in
// the batch, and round k+1 is sent only after every answer of round k came
// back. An event thus leaves only once its invoice's previous event is known
// to be in the stream, whoever sent it; a rejected or unanswered event holds
// back the rest of its invoice, while other invoices go on. Because events
// are only ever sent after their predecessor is stored, a second relay
// running by mistake can add duplicates (dropped by the duplicate window) but
// never reorder an invoice. A batch of many invoices takes one round trip;
// only a burst on one invoice costs a round trip per event.
func (r *Relay) relayBatch(ctx context.Context, prev **marking) (int, error) {
	recs, err := r.store.Pending(ctx, r.cfg.BatchSize, (*prev).sequences())
	if err != nil || len(recs) == 0 {
		return 0, errors.Join(err, r.settle(prev))
	}
	r.cfg.Metrics.Batch(len(recs))

	// Pending returns sequence order, which within an invoice is version
	// order: the repository writes version n+1 only after reading version n
	// committed, so its events get later sequence numbers.
	round := make([]int, len(recs))
	depth := make(map[invoice.ID]int, len(recs))
	rounds := 0
	for i, rec := range recs {
		round[i] = depth[rec.InvoiceID]
		depth[rec.InvoiceID]++
		rounds = max(rounds, round[i]+1)
	}

	held := make(map[invoice.ID]bool) // invoices with an unsent event in this batch
	published := make([]int64, 0, len(recs))
	var failures []Failure
	var outage error
	idx := make([]int, 0, len(recs))
	msgs := make([]Message, 0, len(recs))
	for k := 0; k < rounds && outage == nil; k++ {
		idx, msgs = idx[:0], msgs[:0]
		for i, rec := range recs {
			if round[i] != k || held[rec.InvoiceID] {
				continue
			}
			body, err := cloudevent.Encode(rec.EventRecord)
			if err != nil {
				held[rec.InvoiceID] = true
				failures = append(failures, r.failure(rec, err))
				continue
			}
			idx = append(idx, i)
			msgs = append(msgs, Message{Subject: cloudevent.Subject(rec.Type), ID: rec.ID.String(), Body: body,
				CorrelationID: rec.Trace.CorrelationID, TraceParent: rec.Trace.TraceParent, TraceState: rec.Trace.TraceState})
		}
		if len(msgs) == 0 {
			continue
		}
		start := time.Now()
		errs := r.pub.Publish(ctx, msgs)
		took := time.Since(start)
		stored, rejected, unavailable := 0, 0, 0
		for j, err := range errs {
			rec := recs[idx[j]]
			switch {
			case err == nil:
				stored++
				published = append(published, rec.Sequence)
			case errors.Is(err, ErrUnavailable) || ctx.Err() != nil:
				unavailable++
				held[rec.InvoiceID] = true
				if outage == nil {
					outage = err
				}
			default:
				rejected++
				held[rec.InvoiceID] = true
				failures = append(failures, r.failure(rec, err))
			}
		}
		r.cfg.Metrics.Round(took, stored, rejected, unavailable)
	}
	prevErr := r.settle(prev)
	if outage == nil && prevErr == nil && len(failures) == 0 {
		*prev = r.markAsync(ctx, published)
		return len(recs), nil
	}
	return len(recs), errors.Join(outage, prevErr, r.bookkeep(ctx, published, failures))
}

// settle waits for the marking in *prev, if any, clears it and returns its
// error.
func (r *Relay) settle(prev **marking) error {
	err := (*prev).wait()
	*prev = nil
	return err
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
	log := r.log.With("event_id", rec.ID, "sequence", rec.Sequence, "invoice_id", rec.InvoiceID,
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
func (r *Relay) bookkeep(ctx context.Context, published []int64, failures []Failure) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	var errs []error
	if len(published) > 0 {
		if err := r.store.MarkPublished(ctx, published); err != nil {
			errs = append(errs, fmt.Errorf("relay: mark %d events published: %w", len(published), err))
		}
	}
	if len(failures) > 0 {
		if err := r.store.RecordFailures(ctx, failures); err != nil {
			errs = append(errs, fmt.Errorf("relay: record %d failures: %w", len(failures), err))
		}
	}
	return errors.Join(errs...)
}
