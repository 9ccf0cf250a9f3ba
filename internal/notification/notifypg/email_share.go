package notifypg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// emailShares shares the email workers between the tenants whose email
// tasks (receipts and payment reminders alike) run, with the slots the
// webhook deliveries take (one per running task, by tenant): a tenant alone
// takes every worker (the mail server is the same for every tenant, so
// holding the workers back would only slow it down); with others running,
// each takes an equal part, at least PerTenant. A task over its tenant's
// part is deferred (a snooze, which costs no attempt), spread ahead by how
// fast the tenant's slots turn over.
//
// River fetches by priority, then oldest first, so which tasks run next is
// decided mostly at insert: receipts beyond a tenant's share of its recent
// ones go in at burstPriority, reminders all do (a receipt answers a
// payment just made; a reminder a few minutes late is as good). Reminders
// of one tenant falling due together stand before the other tenants'
// reminders; so a reminder whose tenant holds PerTenant slots yields its
// place once, deferred, and those queued behind are fetched meanwhile. It
// is River middleware, wrapping the workers of both kinds alike.
type emailShares struct {
	river.MiddlewareDefaults
	q       *Queue
	tenants *slots // Workers each: a count, never short
}

var _ rivertype.WorkerMiddleware = (*emailShares)(nil)

func newEmailShares(q *Queue) *emailShares {
	return &emailShares{q: q, tenants: newSlots(q.cfg.Workers)}
}

// InsertOpts puts every reminder after the receipts of the tenants within
// their share (see emailShares).
func (reminderArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Priority: burstPriority} }

// Work runs job in a slot of its tenant, or defers it as emailShares says.
// Other kinds, and tasks whose tenant is not known, run as they come.
func (m *emailShares) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if job.Kind != emailKind && job.Kind != reminderKind {
		return doInner(ctx)
	}
	tenant, err := m.tenantOf(ctx, job)
	if err != nil {
		return err // River runs the task again
	}
	if tenant == "" {
		return doInner(ctx)
	}
	cfg := m.q.cfg
	held, others := m.tenants.load(tenant)
	part := max(cfg.PerTenant, cfg.Workers/(others+1))
	if job.Kind == reminderKind && snoozes(job.Metadata) == 0 {
		part = cfg.PerTenant
	}
	if held >= part {
		if d := m.tenants.later(tenant); d > 0 {
			return river.JobSnooze(d)
		}
	}
	ok, d := m.tenants.take(ctx, tenant, slotWait)
	if !ok {
		return river.JobSnooze(d)
	}
	start := time.Now()
	defer func() { m.tenants.give(tenant, time.Since(start)) }()
	return doInner(ctx)
}

// snoozes returns how many times River has snoozed the task (its
// metadata's snoozes), 0 if it cannot tell.
func snoozes(metadata []byte) int {
	var m struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(metadata, &m)
	return m.Snoozes
}

// tenantOf returns the tenant of an email task: an email's event names it,
// a reminder's arguments do; a reminder stored before they did is looked
// up in its process (a primary-key read). It returns "" for a task it
// cannot tell the tenant of (the worker decides what becomes of it), or
// the database's error.
func (m *emailShares) tenantOf(ctx context.Context, job *rivertype.JobRow) (string, error) {
	if job.Kind == emailKind {
		var a struct {
			Event struct {
				TenantID string `json:"tenantid"`
			} `json:"event"`
		}
		_ = json.Unmarshal(job.EncodedArgs, &a)
		return a.Event.TenantID, nil
	}
	var a reminderArgs
	if err := json.Unmarshal(job.EncodedArgs, &a); err != nil {
		return "", nil
	}
	if a.TenantID != "" {
		return a.TenantID, nil
	}
	var tenant string
	err := m.q.pool.QueryRow(ctx, `SELECT tenant_id FROM notification.reminder_processes WHERE invoice_id = $1`, a.InvoiceID).Scan(&tenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("notification: reminder: read its tenant: %w", err)
	}
	return tenant, nil
}
