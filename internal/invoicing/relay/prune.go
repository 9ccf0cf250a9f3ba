package relay

import (
	"context"
	"time"
)

// pruneEvery prunes now and then every PruneInterval until ctx is done.
func (r *Relay) pruneEvery(ctx context.Context) {
	for ctx.Err() == nil {
		r.prune(ctx)
		sleep(ctx, r.cfg.PruneInterval)
	}
}

// prune deletes published records older than the retention, a small batch
// per statement, until none is left or ctx is done.
func (r *Relay) prune(ctx context.Context) {
	cutoff := time.Now().Add(-r.cfg.Retention)
	var total int64
	for ctx.Err() == nil {
		n, err := r.store.Prune(ctx, cutoff, pruneBatch)
		total += n
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("relay: prune failed", "err", err)
			}
			break
		}
		if n < pruneBatch {
			break
		}
	}
	if total > 0 {
		r.log.Info("relay: pruned published events", "count", total, "before", cutoff)
	}
}
