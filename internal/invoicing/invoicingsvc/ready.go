package invoicingsvc

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/schemastate"
)

// readinessChecks returns the checks of GET /readyz: the database answers,
// its schema is at the migration this binary embeds, and, if this process
// runs the relay (pub not nil), NATS is connected, its max_payload admits
// the largest event and the stream exists; and, without failing readiness,
// how many outbox events are parked. Each reason is a fixed phrase: no
// address or error text.
//
// In a process that serves the API (api), the NATS check is advisory too:
// the API takes payments into the outbox whether or not the broker is up,
// which is what the outbox is for, and every replica shares the one
// broker, so failing readiness would take the whole API out of rotation
// for an outage its callers need not notice. The relay process has no API:
// there it fails readiness.
func readinessChecks(pool *pgxpool.Pool, want uint, pub *invoicingnats.Publisher, api bool) []invoicinghttp.Check {
	nats := invoicinghttp.Check{Name: "nats"} // skipped without a relay in this process
	if pub != nil {
		nats.Advisory = api
		nats.Run = func(ctx context.Context) error {
			err := pub.Ready(ctx)
			switch {
			case err == nil:
				return nil
			case errors.Is(err, invoicingnats.ErrMaxPayloadTooSmall):
				return errors.Join(&invoicinghttp.Unready{Reason: fmt.Sprintf("server max_payload below %d bytes", relay.MaxEventBytes)}, err)
			case errors.Is(err, invoicingnats.ErrStreamPending):
				return errors.Join(&invoicinghttp.Unready{Reason: "stream " + pub.Stream() + " not created yet", Starting: true}, err)
			case errors.Is(err, invoicingnats.ErrNoStream):
				return errors.Join(&invoicinghttp.Unready{Reason: "stream " + pub.Stream() + " not found"}, err)
			case errors.Is(err, relay.ErrUnavailable):
				return errors.Join(&invoicinghttp.Unready{Reason: "not connected"}, err)
			default:
				return err // "failed", or "timeout"
			}
		}
	}
	return []invoicinghttp.Check{
		{Name: "database", Run: func(ctx context.Context) error {
			if err := pool.Ping(ctx); err != nil {
				return errors.Join(&invoicinghttp.Unready{Reason: "unreachable"}, err)
			}
			return nil
		}},
		{Name: "schema", Run: func(ctx context.Context) error {
			have, dirty, err := invoicingpg.SchemaVersion(ctx, pool)
			if err != nil {
				return errors.Join(&invoicinghttp.Unready{Reason: "version unreadable"}, err)
			}
			// A newer schema is ready: failing every instance of this
			// release at once, during a rolling deploy, would take the
			// service down.
			err = schemastate.State{Version: have, Dirty: dirty, Latest: want}.Check()
			if d := (*schemastate.DirtyError)(nil); errors.As(err, &d) {
				return &invoicinghttp.Unready{Reason: fmt.Sprintf("dirty at version %d: a migration failed half-way", have)}
			} else if err != nil {
				return &invoicinghttp.Unready{Reason: err.Error()}
			}
			return nil
		}},
		nats,
		// Advisory: a parked event needs an operator, but this process
		// serves as well as any other, and failing readiness everywhere
		// (the outbox is shared) would take the whole API down for it.
		{Name: "outbox", Report: invoicingpg.NewOutbox(pool).Parked, CountName: "parked",
			Warning: "parked events hold back their invoices' later events: see `invoicing outbox failed`"},
	}
}
