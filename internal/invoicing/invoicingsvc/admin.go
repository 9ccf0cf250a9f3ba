package invoicingsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Admin runs the invoicing context's one-shot operator commands (the
// parked events of the outbox, API keys, one run of the overdue job) on a
// pool of its own.
type Admin struct {
	pool   *pgxpool.Pool
	outbox *invoicingpg.Outbox
}

// OpenAdmin connects to the invoicing database at databaseURL; it returns
// the connection's error.
func OpenAdmin(ctx context.Context, databaseURL string) (*Admin, error) {
	pool, err := invoicingpg.Connect(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	return &Admin{pool: pool, outbox: invoicingpg.NewOutbox(pool)}, nil
}

// Close closes a's pool.
func (a *Admin) Close() { a.pool.Close() }

// MaxParkedListed is the most parked events WriteParked lists.
const MaxParkedListed = 1000

// WriteParked writes to w a table of up to MaxParkedListed parked events,
// oldest first, and how many are parked in all. It returns the first
// error of the queries or of w.
func (a *Admin) WriteParked(ctx context.Context, w io.Writer) error {
	failed, err := a.outbox.ListFailed(ctx, MaxParkedListed)
	if err != nil {
		return err
	}
	total := int64(len(failed))
	if len(failed) == MaxParkedListed {
		if total, err = a.outbox.Parked(ctx); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT_ID\tTYPE\tINVOICE\tVERSION\tATTEMPTS\tFAILED_AT\tLAST_ERROR")
	for _, f := range failed {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", f.ID, f.Type, f.AggregateID, f.Version,
			f.Attempts, f.FailedAt.UTC().Format(time.RFC3339), f.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if total > int64(len(failed)) {
		_, err = fmt.Fprintf(w, "%d parked events, the oldest %d shown\n", total, len(failed))
		return err
	}
	_, err = fmt.Fprintf(w, "%d parked events\n", total)
	return err
}

// RetryParked re-queues the parked event eventID: the relay then publishes
// it before the later events of its invoice. It returns an error saying so
// if no such event is parked.
func (a *Admin) RetryParked(ctx context.Context, eventID uuid.UUID) error {
	if err := a.outbox.Retry(ctx, eventID); err != nil {
		if errors.Is(err, relay.ErrNotFailed) {
			return fmt.Errorf("no parked event with id %s", eventID)
		}
		return err
	}
	return nil
}

// RetryAllParked re-queues every parked event and returns how many, or the
// query's error.
func (a *Admin) RetryAllParked(ctx context.Context) (int64, error) { return a.outbox.RetryAll(ctx) }

// CreateAPIKey creates an API key for the tenant named tenantName, creating
// the tenant if needed, and returns the key and the tenant's id, or the use
// case's error.
func (a *Admin) CreateAPIKey(ctx context.Context, tenantName string) (key string, tenant kernel.TenantID, err error) {
	h := app.New(nil, invoicingpg.NewAPIKeys(a.pool), nil, app.SystemClock{}).CreateAPIKey
	return h.Handle(ctx, app.CreateAPIKey{TenantName: tenantName})
}

// TenantExists reports whether a tenant named name exists, or returns the
// query's error.
func (a *Admin) TenantExists(ctx context.Context, name string) (bool, error) {
	return invoicingpg.NewAPIKeys(a.pool).TenantExists(ctx, name)
}

// CreateTenant creates, in the invoicing database at databaseURL, the
// tenant called name and an API key for it, and returns the key and the
// tenant's id. A tenant that exists already is left as it is: key is then
// empty, as its keys are stored as hashes only.
func CreateTenant(ctx context.Context, databaseURL, name string) (key string, tenant kernel.TenantID, err error) {
	a, err := OpenAdmin(ctx, databaseURL)
	if err != nil {
		return "", tenant, err
	}
	defer a.Close()
	if exists, err := a.TenantExists(ctx, name); err != nil || exists {
		return "", tenant, err
	}
	return a.CreateAPIKey(ctx, name)
}
