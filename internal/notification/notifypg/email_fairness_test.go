package notifypg_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// orderMailer records to whom it sent, in order, taking delay a send as a
// mail server would; it closes seen at the first email to watch.
type orderMailer struct {
	delay time.Duration
	watch string

	mu   sync.Mutex
	sent []string
	seen chan struct{}
}

func (m *orderMailer) Send(_ context.Context, e notification.Email) error {
	time.Sleep(m.delay)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, e.To.Email)
	if e.To.Email == m.watch && m.seen != nil {
		close(m.seen)
		m.seen = nil
	}
	return nil
}

// before returns how many emails went to other before the first to to,
// and whether one went to to.
func (m *orderMailer) before(to, other string) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.sent {
		switch s {
		case to:
			return n, true
		case other:
			n++
		}
	}
	return n, false
}

// count returns how many emails went to to, and in all.
func (m *orderMailer) count(to string) (n, all int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.sent {
		if s == to {
			n++
		}
	}
	return n, len(m.sent)
}

// paidEvent returns an invoice-paid event of tenant whose receipt goes to email.
func paidEvent(t testing.TB, tenant, email string) notification.Event {
	t.Helper()
	id, inv := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	ev, err := notification.DecodeEvent(fmt.Appendf(nil, `{"specversion":"1.0","id":%q,"source":"/invoicing",
		"type":"invoicing.invoice.paid","subject":%q,"time":"2026-11-30T10:00:00Z","datacontenttype":"application/json",
		"tenantid":%q,"sequence":"12","invoiceversion":4,
		"data":{"invoice_id":%q,"number":"INV-2026-000009","customer":{"name":"Ada","email":%q},
		"currency":"EUR","total":1200,"amount_paid":1200,"paid_at":"2026-11-30T10:00:00Z"}}`, id, inv, tenant, inv, email))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestEmailBurstLetsAnotherTenantsReceiptThrough queues a burst of one
// tenant's receipts, then one receipt of another tenant, and starts the
// workers: the other tenant's receipt goes out before the burst has
// drained, whether the burst came in one batch of events or one event a
// batch.
func TestEmailBurstLetsAnotherTenantsReceiptThrough(t *testing.T) {
	const burst = 600
	for _, batch := range []int{burst, 1} {
		t.Run(fmt.Sprintf("%d events a batch", batch), func(t *testing.T) {
			ctx := context.Background()
			pool := newPool(t)
			m := &orderMailer{delay: 5 * time.Millisecond, watch: "b@globex.example", seen: make(chan struct{})}
			seen := m.seen
			q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Mailer: m}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			in := q.Inbox("notification")
			var evs []notification.Event
			for i := range burst {
				evs = append(evs, paidEvent(t, "acme", "a@acme.example"))
				if len(evs) == batch || i == burst-1 {
					if _, err := in.Handle(ctx, evs); err != nil {
						t.Fatal(err)
					}
					evs = nil
				}
			}
			if _, err := in.Handle(ctx, []notification.Event{paidEvent(t, "globex", "b@globex.example")}); err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = q.Stop(ctx) }()
			select {
			case <-seen:
			case <-time.After(2 * time.Minute): // a bound for a hung test, not a timing
				t.Fatal("globex's receipt not sent")
			}
			if n, _ := m.count("a@acme.example"); n >= burst/2 {
				t.Errorf("%d of acme's %d receipts went out before globex's one, want fewer than half", n, burst)
			}
		})
	}
}

// TestReminderBurstLetsAnotherTenantsEmailsThrough queues a burst of one
// tenant's payment reminders, all due, then another tenant's receipt and
// reminder, also due, and starts the workers: both of the other tenant's
// emails go out before the burst has drained.
func TestReminderBurstLetsAnotherTenantsEmailsThrough(t *testing.T) {
	const burst = 300
	ctx := context.Background()
	pool := newPool(t)
	m := &orderMailer{delay: 5 * time.Millisecond}
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Mailer: m, Reminders: notification.Schedule{time.Second}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	in := q.Inbox("notification")
	overdueAt := time.Now().Add(-time.Hour) // every reminder due at once
	var evs []notification.Event
	for range burst {
		evs = append(evs, overdueEvent(uuid.NewString(), 3, overdueAt, 1200)) // acme's, to ada@example.com
		if len(evs) == 100 {
			if _, err := in.Handle(ctx, evs); err != nil {
				t.Fatal(err)
			}
			evs = nil
		}
	}
	burstTenant := overdueEvent(uuid.NewString(), 3, overdueAt, 1200).TenantID
	other := overdueEvent(uuid.NewString(), 3, overdueAt, 1200)
	other.TenantID = "globex"
	other.Data = []byte(strings.Replace(string(other.Data), "ada@example.com", "r@globex.example", 1))
	if _, err := in.Handle(ctx, []notification.Event{paidEvent(t, "globex", "b@globex.example"), other}); err != nil {
		t.Fatal(err)
	}
	// Each reminder task names its tenant: the shares need no read of its
	// process on every run.
	tenants := map[string]int{}
	rows, err := pool.Query(ctx, `SELECT coalesce(args->>'tenant_id', ''), count(*) FROM notification.river_job
		WHERE kind = 'notification.reminder' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tenant string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&tenant, &n}, func() error { tenants[tenant] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{other.TenantID: 1, burstTenant: burst}; !maps.Equal(tenants, want) {
		t.Errorf("reminder tasks by tenant in their arguments %v, want %v", tenants, want)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = q.Stop(ctx) }()
	waitFor(t, "globex's receipt and reminder", func() bool {
		_, receipt := m.before("b@globex.example", "")
		_, reminder := m.before("r@globex.example", "")
		return receipt && reminder
	})
	for _, to := range []string{"b@globex.example", "r@globex.example"} {
		if n, _ := m.before(to, "ada@example.com"); n >= burst/2 {
			t.Errorf("%d of acme's %d reminders went out before globex's email to %s, want fewer than half", n, burst, to)
		}
	}
}
