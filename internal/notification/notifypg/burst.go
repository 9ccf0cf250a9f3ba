package notifypg

import (
	"math"
	"sync"
	"time"

	"github.com/riverqueue/river"
)

// burstPriority is the River priority of a tenant's tasks beyond its share;
// the others have River's default, 1.
const burstPriority = 2

// bursts gives the tasks of one insert their priority, by tenant. River
// fetches by priority, then oldest first: a tenant's tasks beyond what its
// share of the workers could start at once go in at burstPriority, so that
// a burst of its own (a batch of events, a fan-out, a replay) does not
// stand, task by task, before other tenants' fresh tasks while each of its
// tasks is fetched and deferred in turn. Alone, a tenant's tasks all run as
// fast as before: a priority only orders them.
type bursts struct {
	share int
	seen  map[string]int
}

func newBursts(share int) *bursts { return &bursts{share: share, seen: map[string]int{}} }

// next returns the insert options of tenant's next task: nil (River's
// defaults) within its share, burstPriority beyond.
func (b *bursts) next(tenant string) *river.InsertOpts {
	if b.seen[tenant]++; b.seen[tenant] > b.share {
		return &river.InsertOpts{Priority: burstPriority}
	}
	return nil
}

// recentHalfLife is how fast recentTasks forgets: a tenant's tasks count
// half as much a second later.
const recentHalfLife = time.Second

// recentTasks counts the tasks each tenant queued lately, each counting
// less as it ages, for the bursts of the inserts that follow: a burst that
// comes as many small batches (one event each, as a consumer keeping up
// with a tenant's bulk operation reads them) is a burst still.
type recentTasks struct {
	mu sync.Mutex
	by map[string]recentCount
}

type recentCount struct {
	n  float64
	at time.Time
}

// start returns bursts for an insert with share that counts the tenants'
// recent tasks as seen already.
func (r *recentTasks) start(share int, tenants []string, now time.Time) *bursts {
	b := newBursts(share)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range tenants {
		b.seen[t] = int(math.Round(r.by[t].decayed(now)))
	}
	return b
}

// add counts what b queued, once committed.
func (r *recentTasks) add(b *bursts, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = map[string]recentCount{}
	}
	for t, n := range b.seen {
		r.by[t] = recentCount{n: float64(n), at: now}
	}
	// Forget the tenants quiet for a while: the map stays as small as the
	// tenants lately busy.
	if len(r.by) > 1024 {
		for t, c := range r.by {
			if c.decayed(now) < 1 {
				delete(r.by, t)
			}
		}
	}
}

func (c recentCount) decayed(now time.Time) float64 {
	if c.n == 0 {
		return 0
	}
	return c.n * math.Exp2(-float64(now.Sub(c.at))/float64(recentHalfLife))
}
