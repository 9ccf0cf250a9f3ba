package notifypg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/app"
)

var _ app.Reminders = (*Queue)(nil)

// reminderKind is the River job kind of a scheduled payment reminder.
const reminderKind = "notification.reminder"

// reminderArgs is one step of an invoice's reminder process: it fires at
// the step's time and sends the reminder if the process still wants it.
type reminderArgs struct {
	InvoiceID string `json:"invoice_id"`
	Step      int    `json:"step"`
	// TenantID is the process's tenant, for the email workers' shares
	// (see emailShares). Tasks stored before it was added have none.
	TenantID string `json:"tenant_id,omitempty"`
}

// Kind returns the River job kind.
func (reminderArgs) Kind() string { return reminderKind }

// remind applies the reminder facts of evs (the batch's new events, in
// stream order) to their invoices' processes in the inbox's transaction tx:
// the state, the reminder tasks of a process that starts and the
// cancellation of those of a process that ends commit with the inbox rows,
// or none of them does. Nothing happens with an empty schedule.
func (in *Inbox) remind(ctx context.Context, tx pgx.Tx, evs []notification.Event) error {
	schedule := in.q.cfg.Reminders
	if len(schedule) == 0 {
		return nil
	}
	type factOf struct {
		tenant, invoice string
		fact            notification.ReminderFact
	}
	var facts []factOf
	tenants := map[string]string{}
	for _, ev := range evs {
		f, ok, err := notification.FactOf(ev)
		if err != nil {
			// Redelivering a malformed event cannot help; its emails
			// and webhooks go on without it.
			in.q.log.WarnContext(ctx, "event unusable for payment reminders", "event_id", ev.ID, "err", err)
			continue
		}
		if ok && ev.Subject != "" {
			facts = append(facts, factOf{tenant: ev.TenantID, invoice: ev.Subject, fact: f})
			tenants[ev.Subject] = ev.TenantID
		}
	}
	if len(facts) == 0 {
		return nil
	}
	procs, err := lockProcesses(ctx, tx, tenants)
	if err != nil {
		return err
	}
	changed, started := map[string]bool{}, map[string]bool{}
	var cancel []int64
	for _, f := range facts {
		p := procs[f.invoice]
		wasActive := p.State() == notification.ReminderActive
		switch p.Apply(f.fact, schedule) {
		case notification.ReminderIgnored:
			continue
		case notification.ReminderStarted:
			started[f.invoice] = true
		case notification.ReminderEnded:
			if wasActive && !started[f.invoice] {
				// Not the task of a reminder in flight: cancelling a
				// running task cancels its context, and with it the
				// record of a send that may have left.
				cancel = append(cancel, p.JobsToCancel()...)
			}
		}
		changed[f.invoice] = true
	}
	if err := in.scheduleReminders(ctx, tx, procs, started); err != nil {
		return err
	}
	for _, id := range cancel {
		// A task already run and pruned is gone: nothing left to cancel.
		if _, err := in.q.client.JobCancelTx(ctx, tx, id); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("notification: inbox: cancel reminder %d: %w", id, err)
		}
	}
	save := make([]*notification.ReminderProcess, 0, len(changed))
	for id := range changed {
		save = append(save, procs[id])
	}
	return saveProcesses(ctx, tx, save)
}

// scheduleReminders stores one scheduled task per unsent step of each
// process that started in this batch (and is still active), and records
// their ids in the process. A step already due runs at once.
func (in *Inbox) scheduleReminders(ctx context.Context, tx pgx.Tx, procs map[string]*notification.ReminderProcess, started map[string]bool) error {
	var params []river.InsertManyParams
	var owners []string
	for id := range started {
		p := procs[id]
		if p.State() != notification.ReminderActive {
			continue // started and ended in the same batch
		}
		for _, s := range p.Steps() {
			params = append(params, river.InsertManyParams{Args: reminderArgs{InvoiceID: id, Step: s.N, TenantID: p.TenantID()}, InsertOpts: &river.InsertOpts{ScheduledAt: s.At}})
			owners = append(owners, id)
		}
	}
	if len(params) == 0 {
		return nil
	}
	res, err := in.q.client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return fmt.Errorf("notification: inbox: schedule reminders: %w", err)
	}
	jobs := map[string][]int64{}
	for i, r := range res {
		jobs[owners[i]] = append(jobs[owners[i]], r.Job.ID)
	}
	for id, ids := range jobs {
		if err := procs[id].SetJobs(ids); err != nil {
			return fmt.Errorf("notification: inbox: schedule reminders: %w", err)
		}
	}
	return nil
}

// lockProcesses returns the reminder processes of the invoices (id to
// tenant), locked for the rest of tx; an invoice without one gets a new
// pending process. The rows are first inserted if missing (DO NOTHING), so
// two transactions meeting on a new invoice take turns on its row instead
// of each starting from nothing and the second overwriting the first; they
// are locked in invoice order, as every transaction here locks them.
func lockProcesses(ctx context.Context, tx pgx.Tx, tenants map[string]string) (map[string]*notification.ReminderProcess, error) {
	ids := make([]string, 0, len(tenants))
	for id := range tenants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ts := make([]string, len(ids))
	for i, id := range ids {
		ts[i] = tenants[id]
	}
	_, err := tx.Exec(ctx, `INSERT INTO notification.reminder_processes (invoice_id, tenant_id, state, version, amount_due)
		SELECT id, tenant, 'pending', 0, 0 FROM unnest($1::text[], $2::text[]) AS p(id, tenant) ORDER BY id
		ON CONFLICT (invoice_id) DO NOTHING`, ids, ts)
	if err != nil {
		return nil, fmt.Errorf("notification: inbox: add reminder processes: %w", err)
	}
	rows, err := tx.Query(ctx, selectProcess+` WHERE invoice_id = ANY($1) ORDER BY invoice_id FOR UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("notification: inbox: lock reminder processes: %w", err)
	}
	procs, err := collectProcesses(rows)
	if err != nil {
		return nil, fmt.Errorf("notification: inbox: lock reminder processes: %w", err)
	}
	byID := make(map[string]*notification.ReminderProcess, len(procs))
	for _, p := range procs {
		byID[p.InvoiceID()] = p
	}
	return byID, nil
}

const selectProcess = `SELECT invoice_id, tenant_id, state, version, amount_due, overdue_event_id, overdue, due, sent, sending, given_up, jobs
	FROM notification.reminder_processes`

// collectProcesses reads rows of selectProcess.
func collectProcesses(rows pgx.Rows) ([]*notification.ReminderProcess, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*notification.ReminderProcess, error) {
		var s notification.ReminderSnapshot
		var overdue []byte
		if err := row.Scan(&s.InvoiceID, &s.TenantID, &s.State, &s.Version, &s.AmountDue, &s.OverdueEventID, &overdue, &s.Due, &s.Sent, &s.Sending, &s.GivenUp, &s.Jobs); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(overdue, &s.Overdue); err != nil {
			return nil, fmt.Errorf("reminder process of invoice %s: %w", s.InvoiceID, err)
		}
		return notification.RehydrateReminder(s)
	})
}

// saveProcesses writes procs over their rows in tx, in one statement
// whatever their number, as the inbox's other statements are: a round trip
// per process would grow the batch's transaction with its paid events.
// The arrays travel as one JSON document per process.
func saveProcesses(ctx context.Context, tx pgx.Tx, procs []*notification.ReminderProcess) error {
	n := len(procs)
	ids, states, overdueIDs := make([]string, n), make([]string, n), make([]string, n)
	versions, amounts := make([]int64, n), make([]int64, n)
	overdue, due, sent, sending, givenUp, jobs := make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n)
	for i, p := range procs {
		s := p.Snapshot()
		ids[i], states[i], overdueIDs[i], versions[i], amounts[i] = s.InvoiceID, string(s.State), s.OverdueEventID, s.Version, s.AmountDue
		for _, f := range []struct {
			dst *[]byte
			v   any
		}{{&overdue[i], s.Overdue}, {&due[i], orEmpty(s.Due)}, {&sent[i], orEmpty(s.Sent)}, {&sending[i], orEmpty(s.Sending)},
			{&givenUp[i], orEmpty(s.GivenUp)}, {&jobs[i], orEmpty(s.Jobs)}} {
			b, err := json.Marshal(f.v)
			if err != nil {
				return fmt.Errorf("notification: reminder process of invoice %s: %w", s.InvoiceID, err)
			}
			*f.dst = b
		}
	}
	_, err := tx.Exec(ctx, `UPDATE notification.reminder_processes p SET state = u.state, version = u.version,
		amount_due = u.amount_due, overdue_event_id = u.overdue_event_id, overdue = u.overdue,
		due = ARRAY(SELECT e::timestamptz FROM jsonb_array_elements_text(u.due) WITH ORDINALITY AS a(e, i) ORDER BY i),
		sent = ARRAY(SELECT e::boolean FROM jsonb_array_elements_text(u.sent) WITH ORDINALITY AS a(e, i) ORDER BY i),
		sending = ARRAY(SELECT e::boolean FROM jsonb_array_elements_text(u.sending) WITH ORDINALITY AS a(e, i) ORDER BY i),
		given_up = ARRAY(SELECT e::boolean FROM jsonb_array_elements_text(u.given_up) WITH ORDINALITY AS a(e, i) ORDER BY i),
		jobs = ARRAY(SELECT e::bigint FROM jsonb_array_elements_text(u.jobs) WITH ORDINALITY AS a(e, i) ORDER BY i),
		updated_at = now()
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::jsonb[], $7::jsonb[], $8::jsonb[], $9::jsonb[], $10::jsonb[], $11::jsonb[])
			AS u(invoice_id, state, version, amount_due, overdue_event_id, overdue, due, sent, sending, given_up, jobs)
		WHERE p.invoice_id = u.invoice_id`,
		ids, states, versions, amounts, overdueIDs, overdue, due, sent, sending, givenUp, jobs)
	if err != nil {
		return fmt.Errorf("notification: save reminder processes: %w", err)
	}
	return nil
}

// orEmpty returns s, or an empty slice for nil: JSON [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Reminders returns up to limit reminder processes, the active ones first,
// then the others, most recently changed first; only invoiceID's if it is
// not empty. It returns an error if the database cannot be read.
func (q *Queue) Reminders(ctx context.Context, invoiceID string, limit int) ([]app.ReminderView, error) {
	rows, err := q.pool.Query(ctx, selectProcess+` WHERE $1 = '' OR invoice_id = $1
		ORDER BY state <> 'active', updated_at DESC, invoice_id LIMIT $2`, invoiceID, limit)
	if err != nil {
		return nil, fmt.Errorf("notification: list reminder processes: %w", err)
	}
	procs, err := collectProcesses(rows)
	if err != nil {
		return nil, fmt.Errorf("notification: list reminder processes: %w", err)
	}
	views := make([]app.ReminderView, len(procs))
	for i, p := range procs {
		_, d := p.Overdue()
		v := app.ReminderView{
			InvoiceID: p.InvoiceID(), TenantID: p.TenantID(), Number: d.Number, State: string(p.State()),
			AmountDue: p.AmountDue(), Currency: d.Currency, Steps: len(p.Due()),
		}
		v.Sent, v.GivenUp = countTrue(p.Sent()), countTrue(p.GivenUp())
		if n, ok := p.Next(); ok {
			v.NextStep, v.NextAt = n.N, n.At
		}
		views[i] = v
	}
	return views, nil
}

// countTrue returns how many of bs are true.
func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// ReminderCounts returns the reminder processes by state, in one query, and
// the reminders this process sent since it started. It returns an error if
// the query fails.
func (q *Queue) ReminderCounts(ctx context.Context) (processes map[string]int64, sent int64, err error) {
	rows, err := q.pool.Query(ctx, `SELECT state, count(*) FROM notification.reminder_processes GROUP BY state`)
	if err != nil {
		return nil, 0, fmt.Errorf("notification: count reminder processes: %w", err)
	}
	processes = map[string]int64{}
	var state string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&state, &n}, func() error { processes[state] = n; return nil }); err != nil {
		return nil, 0, fmt.Errorf("notification: count reminder processes: %w", err)
	}
	return processes, q.remindersSent.Load(), nil
}

// pruneReminders deletes the processes that are not active and have not
// changed since horizon.
func (q *Queue) pruneReminders(ctx context.Context, horizon time.Time) error {
	_, err := q.pool.Exec(ctx, `DELETE FROM notification.reminder_processes WHERE state <> 'active' AND updated_at < $1`, horizon)
	return err
}
