package relay

import (
	"context"
	"time"
)

// marking is a MarkPublished running beside the next step of the leader
// (see advance).
//
// Why this is safe: it is started only for a batch whose every record the
// broker acknowledged, and the reads until it is settled leave those
// records out. A later record of the same invoice therefore follows an
// event known to be in the stream, as the round rule requires; had any
// record failed, the relay would have marked synchronously, so its failure
// is in the store before the next read holds back its invoice.
type marking struct {
	seqs []int64
	done chan error
}

// markAsync starts marking seqs published, detached from ctx's cancellation
// like bookkeep: the broker already has those events. It returns nil if
// seqs is empty. acked[i] is when the broker stored seqs[i].
func (r *Relay) markAsync(ctx context.Context, seqs []int64, acked []time.Time) *marking {
	if len(seqs) == 0 {
		return nil
	}
	m := &marking{seqs: seqs, done: make(chan error, 1)}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
		defer cancel()
		if err := r.markPublished(ctx, seqs, acked); err != nil {
			m.done <- err
		}
		close(m.done)
	}()
	return m
}

// wait returns once the marking has finished, with its error. A nil
// marking has nothing to wait for.
func (m *marking) wait() error {
	if m == nil {
		return nil
	}
	return <-m.done
}

// sequences returns the records being marked, for Pending to skip.
func (m *marking) sequences() []int64 {
	if m == nil {
		return nil
	}
	return m.seqs
}
