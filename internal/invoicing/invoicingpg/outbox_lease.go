package invoicingpg

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// relayLockKey is the advisory lock that elects the relay leader (any fixed
// int64; this one is "relay" in ASCII). Advisory locks are per database, so
// each database elects its own leader.
const relayLockKey int64 = 0x72656c6179

const (
	tryLockSQL = `SELECT pg_try_advisory_lock($1::bigint)`
	unlockSQL  = `SELECT pg_advisory_unlock($1::bigint)`
)

// defaultLeaseCheck is how often a leader checks that its lock session
// lives. It bounds how long a leader that lost its connection keeps sending.
const defaultLeaseCheck = time.Second

// RelayLeadership elects the outbox relay's leader among the relays on one
// database. It implements relay.Leadership.
type RelayLeadership struct {
	pool       *pgxpool.Pool
	leaseCheck time.Duration
}

var _ relay.Leadership = (*RelayLeadership)(nil)

// NewRelayLeadership returns the relay election of pool's database. It
// connects only in TryLead, with pool's connection settings.
func NewRelayLeadership(pool *pgxpool.Pool) *RelayLeadership {
	return &RelayLeadership{pool: pool, leaseCheck: defaultLeaseCheck}
}

// TryLead implements relay.Leadership.TryLead with a session-level advisory lock
// on a dedicated connection (not the pool's: the lock must live exactly as
// long as the session, and pool limits must not starve the election).
//
// Why a session lock: PostgreSQL releases it the moment the session ends, so
// a crashed or partitioned leader's lock is freed by the server, and standbys,
// retrying every second, take over. The lease pings its session every
// leaseCheck and reports the lease lost (and closes the session) on the first
// failure, so a leader cut off from the database stops within about a second.
// It returns relay.ErrNotLeader if another session holds the lock, and
// connection errors wrapped.
func (o *RelayLeadership) TryLead(ctx context.Context) (relay.Lease, error) {
	cfg := o.pool.Config().ConnConfig.Copy()
	// A leader cut off by the network holds the lock until the server sees
	// its session die; by default TCP takes hours to tell. These make the
	// server give up on a silent peer within about ten seconds, well inside
	// the duplicate window the re-send of its last batch must fit in.
	for k, v := range map[string]string{"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "1",
		"tcp_keepalives_count": "5", "tcp_user_timeout": "10000"} {
		cfg.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: relay election: connect: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, tryLockSQL, relayLockKey).Scan(&ok); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("postgres: relay election: %w", err)
	}
	if !ok {
		closeConn(conn)
		return nil, relay.ErrNotLeader
	}
	l := &lease{conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch(o.leaseCheck)
	return l, nil
}

// lease holds the relay lock on conn, which only its watch goroutine uses.
type lease struct {
	conn     *pgx.Conn
	lost     chan struct{} // closed when the session failed a check
	stop     chan struct{} // closed by Release
	done     chan struct{} // closed when watch has returned and closed conn
	stopOnce sync.Once
}

// Lost returns a channel closed when the lock's session failed a check.
func (l *lease) Lost() <-chan struct{} { return l.lost }

// Release unlocks, ends the lock's session and waits for both, so that when
// it returns another session can take the lock: closing alone would return
// before the server has ended the session and freed the lock.
func (l *lease) Release() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

// watch checks the session every period until Release or a failed check,
// then closes the session, which releases the lock.
func (l *lease) watch(period time.Duration) {
	defer close(l.done)
	defer closeConn(l.conn)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			unlock(l.conn, period)
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), period)
		_, err := l.conn.Exec(ctx, "SELECT 1")
		cancel()
		if err != nil {
			close(l.lost)
			return
		}
	}
}

// unlock releases the relay lock on conn within timeout. A failure needs no
// report: closing the session, which follows, releases the lock anyway.
func unlock(conn *pgx.Conn, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, _ = conn.Exec(ctx, unlockSQL, relayLockKey)
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx) // the session ends either way; nothing to report
}
