package relay

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// pipeline is what outlives one step of the leader's loop: the batch in
// flight and the marking of the batch before it.
type pipeline struct {
	flight  *flight  // the batch whose answers are awaited; nil if none
	marking *marking // the last batch, every record stored, being marked; nil if none
	lag     Lag      // what the last read left waiting for an older transaction
	quiet   bool     // this step read with nothing in flight or being marked
}

// skip returns the records the next read must leave out: those in flight
// and those being marked published.
func (p *pipeline) skip() []int64 {
	seqs := append([]int64(nil), p.marking.sequences()...)
	if p.flight != nil {
		seqs = append(seqs, p.flight.seqs...)
	}
	return seqs
}

// advance is one step of the leader, the overlap a reader of the relay
// follows:
//
//  1. read and encode the next batch, skipping the batch in flight and the
//     one being marked, while the broker's answers to the batch in flight
//     come back. With a batch in flight that was short and no wake-up since,
//     nothing new is pending and the read is left out;
//  2. await the answers to the batch in flight, and record its outcome:
//     every record stored, it is marked published beside the next step;
//     otherwise its outcome is written first (see record);
//  3. send the next batch, less the records of invoices whose event in the
//     batch just answered was not stored: an invoice's event leaves only
//     after the broker acknowledged its previous one, across batches as
//     within one (see send).
//
// It returns how many records it read, and an error if the store failed or
// the broker was unavailable; the next batch is then not sent.
func (r *Relay) advance(ctx context.Context, p *pipeline) (int, error) {
	var next *batch
	var readErr error
	p.quiet = false
	if p.flight == nil || p.flight.full || r.woken() {
		p.quiet = p.flight == nil && p.marking == nil
		next, p.lag, readErr = r.read(ctx, p.skip())
	}
	n := next.len()
	if p.flight != nil {
		out := p.flight.wait()
		p.flight = nil
		if err := r.record(ctx, p, out); err != nil {
			return n, errors.Join(readErr, err)
		}
		next.hold(out.held)
	}
	if readErr != nil || next.empty() {
		return n, readErr
	}
	p.flight = r.send(ctx, next)
	return n, nil
}

// woken reports whether a wake-up came (and takes it): records may have
// been committed since the last read.
func (r *Relay) woken() bool {
	select {
	case <-r.wake:
		return true
	default:
		return false
	}
}

// record writes a sent batch's outcome to the store after settling the
// marking of the batch before it. A batch whose every record was stored is
// marked beside the next step (see marking); otherwise the outcome is
// written before the next read, so that read already holds back the
// invoices of the records that failed. It returns the outage that stopped
// the batch, if any, joined with the store's errors.
func (r *Relay) record(ctx context.Context, p *pipeline, out outcome) error {
	prevErr := r.settle(&p.marking)
	if out.outage == nil && prevErr == nil && len(out.failures) == 0 {
		p.marking = r.markAsync(ctx, out.published, out.acked)
		return nil
	}
	return errors.Join(out.outage, prevErr, r.bookkeep(ctx, out))
}

// settleAll waits for the batch in flight (which ctx's end cuts short) and
// the marking before it, records the batch's outcome, and returns the
// store's errors. The relay calls it before it stops leading.
func (r *Relay) settleAll(ctx context.Context, p *pipeline) error {
	var errs []error
	if p.flight != nil {
		out := p.flight.wait()
		p.flight = nil
		errs = append(errs, r.bookkeep(ctx, out))
	}
	return errors.Join(append(errs, r.settle(&p.marking))...)
}

// settle waits for the marking in *m, if any, clears it and returns its
// error.
func (r *Relay) settle(m **marking) error {
	err := (*m).wait()
	*m = nil
	return err
}

// outcome is what became of a sent batch.
type outcome struct {
	published []int64            // stored by the broker
	acked     []time.Time        // acked[i]: when the broker stored published[i]
	failures  []Failure          // rejected by the broker, or not encodable
	held      map[uuid.UUID]bool // aggregates with an event not stored: their later ones wait
	outage    error              // why the broker could not be asked, if it could not
}

// flight is a batch being sent by its own goroutine.
type flight struct {
	seqs []int64 // the batch's records, none of which the next read may return
	full bool    // the read that made the batch hit its limit: more may wait
	done chan struct{}
	out  outcome // set before done is closed
}

// wait returns the batch's outcome once every answer is in.
func (f *flight) wait() outcome {
	<-f.done
	return f.out
}
