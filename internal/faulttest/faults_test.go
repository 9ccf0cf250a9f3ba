package faulttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Fault kinds, as reported.
const (
	faultRelayKill   = "kill -9 relay"
	faultServeKill   = "kill -9 serve"
	faultNATSStop    = "nats-server stopped (SIGTERM), restarted"
	faultNATSKill    = "nats-server killed (SIGKILL), restarted"
	faultPGFast      = "PostgreSQL restart -m fast"
	faultPGImmediate = "PostgreSQL restart -m immediate (crash recovery)"
)

// deck is one round of faults, shuffled before use: every kind comes up in
// each round, relay kills most often.
var deck = []string{
	faultRelayKill, faultRelayKill, faultRelayKill, faultRelayKill,
	faultServeKill, faultServeKill, faultServeKill,
	faultNATSStop, faultNATSKill,
	faultPGFast, faultPGFast, faultPGImmediate,
}

// injector injects faults into the running system, one at a time, a random
// 0.5 to 2.5 seconds apart.
type injector struct {
	pg     *pgCluster
	nats   *natsServer
	serves []*proc
	relays []*proc
	admin  string // database URL for leader lookups

	mu     sync.Mutex
	counts map[string]int
	errs   []string
}

// run injects faults until ctx is done, leaving everything running.
func (in *injector) run(ctx context.Context) {
	for ctx.Err() == nil {
		round := slices.Clone(deck)
		rand.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		for _, kind := range round {
			sleep(ctx, time.Duration(500+rand.IntN(2000))*time.Millisecond)
			if ctx.Err() != nil {
				return
			}
			if err := in.inject(ctx, kind); err != nil {
				in.mu.Lock()
				in.errs = append(in.errs, fmt.Sprintf("%s: %v", kind, err))
				in.mu.Unlock()
				continue
			}
			in.mu.Lock()
			in.counts[kind]++
			in.mu.Unlock()
		}
	}
}

// inject injects one fault of kind and returns once it is injected (for
// an outage: once the server is back).
func (in *injector) inject(ctx context.Context, kind string) error {
	switch kind {
	case faultRelayKill:
		// The leader if a relay process leads (killed mid-batch, before or
		// after the broker's ack), else a standby.
		victim := in.relays[rand.IntN(len(in.relays))]
		if leader := in.leader(ctx); leader != nil && slices.Contains(in.relays, leader) && rand.IntN(4) > 0 {
			victim = leader
		}
		return killOrFail(victim)
	case faultServeKill:
		// One serve at a time, so clients always have one to retry against.
		for _, s := range in.serves {
			if !s.running() {
				return fmt.Errorf("%s is still down", s.name)
			}
		}
		return killOrFail(in.serves[rand.IntN(len(in.serves))])
	case faultNATSStop, faultNATSKill:
		sig := syscall.SIGTERM
		if kind == faultNATSKill {
			sig = syscall.SIGKILL
		}
		in.nats.Stop(sig)
		sleep(context.WithoutCancel(ctx), time.Duration(2000+rand.IntN(4000))*time.Millisecond)
		return in.nats.Start()
	case faultPGFast:
		return in.pg.Restart("fast")
	case faultPGImmediate:
		return in.pg.Restart("immediate")
	}
	return fmt.Errorf("unknown fault %q", kind)
}

func killOrFail(p *proc) error {
	if !p.kill() {
		return fmt.Errorf("%s is not running", p.name)
	}
	return nil
}

// leader returns the process whose session holds the relay's advisory lock,
// found by the session's application_name, or nil.
func (in *injector) leader(ctx context.Context) *proc {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, in.admin)
	if err != nil {
		return nil
	}
	defer conn.Close(context.Background())
	var app string
	err = conn.QueryRow(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&app)
	if err != nil {
		return nil
	}
	for _, p := range append(slices.Clone(in.relays), in.serves...) {
		if p.name == app {
			return p
		}
	}
	return nil
}

// total returns the number of faults injected.
func (in *injector) total() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, c := range in.counts {
		n += c
	}
	return n
}
