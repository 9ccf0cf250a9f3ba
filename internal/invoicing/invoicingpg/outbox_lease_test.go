package invoicingpg_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

func TestOutboxLeaseHasOneHolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	a, b := invoicingpg.NewRelayLeadership(pool), invoicingpg.NewRelayLeadership(pool)

	lease, err := a.TryLead(ctx)
	if err != nil {
		t.Fatalf("first TryLead: %v", err)
	}
	if _, err := b.TryLead(ctx); !errors.Is(err, relay.ErrNotLeader) {
		t.Fatalf("second TryLead = %v, want relay.ErrNotLeader", err)
	}
	lease.Release()
	lease, err = b.TryLead(ctx)
	if err != nil {
		t.Fatalf("TryLead after Release: %v", err)
	}
	lease.Release()
}

func TestOutboxLeaseIsLostWithItsSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewRelayLeadership(pool)
	lease, err := o.TryLead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()

	// What a crashed network or a DBA does: the server ends the session.
	_, err = pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-lease.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("lease not reported lost 5s after its session ended")
	}
	// The lock went with the session: someone else can lead now.
	other, err := invoicingpg.NewRelayLeadership(pool).TryLead(ctx)
	if err != nil {
		t.Fatalf("TryLead after the leader's session ended: %v", err)
	}
	other.Release()
}
