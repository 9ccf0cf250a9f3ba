package notifynats_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifynats"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// rig is the whole consumer pipeline on real servers: an embedded NATS with
// its own INVOICING stream, a fresh PostgreSQL database migrated with the
// notification schema, and an in-process SMTP server.
type rig struct {
	t     *testing.T
	ns    *natstest.Server
	pool  *pgxpool.Pool
	js    jetstream.JetStream
	nc    *nats.Conn
	queue *notifypg.Queue
	cons  *notifynats.Consumer
	smtp  *smtptest.Server

	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
}

func newRig(t *testing.T, reactions []notification.Reaction) *rig {
	return newRigWith(t, reactions, func(h notifynats.Handler) notifynats.Handler { return h })
}

// newRigWith is newRig with the inbox wrapped by wrap before the consumer
// gets it.
func newRigWith(t *testing.T, reactions []notification.Reaction, wrap func(notifynats.Handler) notifynats.Handler) *rig {
	t.Helper()
	ns := natstest.New(t)
	return newRigOn(t, ns, ns.URL(), reactions, wrap)
}

// newRigOn is newRigWith on the NATS server at natsURL: ns if it is an
// embedded one (the tests that restart it), nil for a server process.
func newRigOn(t *testing.T, ns *natstest.Server, natsURL string, reactions []notification.Reaction, wrap func(notifynats.Handler) notifynats.Handler) *rig {
	t.Helper()
	ctx := context.Background()
	dbURL := pgtest.NewURL(t)
	if err := notifypg.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	// Migrating twice is a no-op.
	if err := notifypg.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	nc, err := nats.Connect(natsURL, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "INVOICING", Subjects: []string{"invoicing.>"}}); err != nil {
		t.Fatal(err)
	}

	srv := smtptest.New(t)
	mailer, err := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "Billing <billing@example.com>", Domain: "mail.test"})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{
		Reactions: reactions, Mailer: mailer, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	})
	cons, err := notifynats.New(nc, wrap(q.Inbox("notification")), notifynats.Config{
		Subjects: notification.EventTypes(reactions),
		BackOff:  []time.Duration{time.Second},
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, ns: ns, pool: pool, js: js, nc: nc, queue: q, cons: cons, smtp: srv}
	r.startConsumer()
	t.Cleanup(r.stopConsumer)
	return r
}

func (r *rig) startConsumer() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.cons.Run(ctx) }()
	r.mu.Lock()
	r.stop, r.done = cancel, done
	r.mu.Unlock()
}

func (r *rig) stopConsumer() {
	r.mu.Lock()
	stop, done := r.stop, r.done
	r.stop = nil
	r.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// publish stores a CloudEvent of type typ with data into the stream, with
// sequence as a string as the contract says, and returns the event id.
func (r *rig) publish(id, typ, data string) string {
	r.t.Helper()
	ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":%q,"subject":"inv-%s","time":%q,
"datacontenttype":"application/json","tenantid":"t","sequence":"7","invoiceversion":2,"data":%s}`,
		id, typ, id[:8], time.Now().UTC().Format(time.RFC3339Nano), data)
	if _, err := r.js.Publish(context.Background(), typ, []byte(ev)); err != nil {
		r.t.Fatal(err)
	}
	return id
}

// waitConsumed waits until the consumer has read n events.
func (r *rig) waitConsumed(n int64) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, _ := r.cons.Counts(); got >= n {
			return
		}
		if time.Now().After(deadline) {
			got, _ := r.cons.Counts()
			r.t.Fatalf("consumer read %d events, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tasks returns how many email tasks are stored, in any state.
func (r *rig) tasks() int64 {
	r.t.Helper()
	counts, err := r.queue.Counts(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

func issued(number, email string) string {
	return fmt.Sprintf(`{"invoice_id":"i","number":%q,"currency":"EUR","customer":{"name":"Ada","email":%q},"due_date":"2026-12-31",
"lines":[{"id":"l","description":"Consulting","quantity":2,"unit_amount":5000,"tax_rate_bps":2000,"amount":10000,"tax":2000}],
"line_count":1,"subtotal":10000,"tax":2000,"total":12000,"amount_due":12000,"issued_at":"2026-11-30T10:00:00Z"}`, number, email)
}

func TestRedeliveredEventIsOneTaskAndOneEmail(t *testing.T) {
	r := newRig(t, notification.DefaultReactions())
	id := uuid.NewString()
	// The same event stored twice (a relay re-send past the duplicate
	// window), and so delivered twice.
	r.publish(id, notification.InvoiceIssued, issued("INV-2026-000001", "ada@example.com"))
	r.publish(id, notification.InvoiceIssued, issued("INV-2026-000001", "ada@example.com"))
	r.waitConsumed(2)
	if _, fresh := r.cons.Counts(); fresh != 1 {
		t.Errorf("fresh events = %d, want 1", fresh)
	}
	if n := r.tasks(); n != 1 {
		t.Errorf("tasks = %d, want 1", n)
	}
	msgs := r.smtp.Wait(1, 30*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("emails = %d, want 1", len(msgs))
	}
	m := msgs[0]
	if want := "<" + id + ".invoice@mail.test>"; m.MessageID() != want {
		t.Errorf("Message-ID = %q, want %q", m.MessageID(), want)
	}
	if m.Header.Get("X-Invoicing-Event-Id") != id || m.To[0] != "ada@example.com" || m.Subject() != "Invoice INV-2026-000001" {
		t.Errorf("headers: event id %q, to %v, subject %q", m.Header.Get("X-Invoicing-Event-Id"), m.To, m.Subject())
	}
	if !strings.Contains(m.Text, "EUR 120.00") || !strings.Contains(m.HTML, "EUR 120.00") {
		t.Errorf("amount missing:\n%s\n%s", m.Text, m.HTML)
	}
}

// ackLost commits the first batch in the inbox and then reports a failure,
// as if the process died after the commit and before the ack: JetStream
// delivers the message again.
type ackLost struct {
	notifynats.Handler
	calls atomic.Int32
}

func (a *ackLost) Handle(ctx context.Context, evs []notification.Event) (int, error) {
	n, err := a.Handler.Handle(ctx, evs)
	if a.calls.Add(1) == 1 && err == nil {
		return n, fmt.Errorf("ack lost after commit")
	}
	return n, err
}

func TestAckLostAfterCommitIsOneTaskAndOneEmail(t *testing.T) {
	var lost *ackLost
	r := newRigWith(t, notification.DefaultReactions(), func(h notifynats.Handler) notifynats.Handler {
		lost = &ackLost{Handler: h}
		return lost
	})
	id := r.publish(uuid.NewString(), notification.InvoiceIssued, issued("INV-2026-000003", "ada@example.com"))
	r.waitConsumed(1) // the redelivery, handled after the first attempt "failed"
	if n := lost.calls.Load(); n != 2 {
		t.Fatalf("the inbox saw %d deliveries, want 2", n)
	}
	if _, fresh := r.cons.Counts(); fresh != 0 {
		t.Errorf("the redelivery counted as new (%d)", fresh)
	}
	if n := r.tasks(); n != 1 {
		t.Errorf("tasks = %d, want 1", n)
	}
	msgs := r.smtp.Wait(1, 30*time.Second)
	if len(msgs) != 1 || msgs[0].MessageID() != "<"+id+".invoice@mail.test>" {
		t.Errorf("emails: %d, first Message-ID %q", len(msgs), msgs[0].MessageID())
	}
}

func TestReactionsOfOneEventAreRetriedIndependently(t *testing.T) {
	reactions := append(notification.DefaultReactions(), notification.Reaction{
		Name: "accounts-copy", On: notification.InvoiceIssued,
		Render: notification.DefaultReactions()[0].Render,
	})
	r := newRig(t, reactions)
	var refused atomic.Int32
	r.smtp.Reject(func(m smtptest.Message) error {
		if m.Header.Get("X-Invoicing-Reaction") == "accounts-copy" && refused.Add(1) <= 3 {
			return fmt.Errorf("mailbox busy")
		}
		return nil
	})
	id := r.publish(uuid.NewString(), notification.InvoiceIssued, issued("INV-2026-000002", "bob@example.com"))
	msgs := r.smtp.Wait(2, 60*time.Second)
	byReaction := map[string]int{}
	for _, m := range msgs {
		byReaction[m.Header.Get("X-Invoicing-Reaction")]++
	}
	if byReaction["invoice"] != 1 || byReaction["accounts-copy"] != 1 || len(msgs) != 2 {
		t.Fatalf("emails by reaction = %v, want one each", byReaction)
	}
	if n := refused.Load(); n != 4 {
		t.Errorf("copy attempts = %d, want 3 refused + 1 accepted", n)
	}
	if n := r.tasks(); n != 2 {
		t.Errorf("tasks = %d, want 2 (one per reaction)", n)
	}
	for _, m := range msgs {
		if want := "<" + id + "." + m.Header.Get("X-Invoicing-Reaction") + "@mail.test>"; m.MessageID() != want {
			t.Errorf("Message-ID = %q, want %q", m.MessageID(), want)
		}
	}
}

func TestReplay(t *testing.T) {
	r := newRig(t, notification.DefaultReactions())
	ctx := context.Background()
	for i := range 3 {
		r.publish(uuid.NewString(), notification.InvoiceIssued, issued(fmt.Sprintf("INV-2026-%06d", i+1), "ada@example.com"))
	}
	// An event of a type nobody reacts to is not even delivered.
	r.publish(uuid.NewString(), "invoicing.invoice.created", `{}`)
	r.waitConsumed(3)
	r.smtp.Wait(3, 30*time.Second)

	t.Run("last hour sends nothing twice", func(t *testing.T) {
		got, err := r.cons.Replay(ctx, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got.Read != 3 || got.Fresh != 0 {
			t.Errorf("replay = %+v, want 3 read, 0 fresh", got)
		}
		if n := r.tasks(); n != 3 {
			t.Errorf("tasks = %d, want 3", n)
		}
	})

	t.Run("after deleting the consumer sends everything once", func(t *testing.T) {
		r.stopConsumer()
		if err := r.js.DeleteConsumer(ctx, "INVOICING", r.cons.Durable()); err != nil {
			t.Fatal(err)
		}
		// Missed: published while no consumer exists.
		for i := range 2 {
			r.publish(uuid.NewString(), notification.InvoiceIssued, issued(fmt.Sprintf("INV-2026-%06d", i+4), "eve@example.com"))
		}
		got, err := r.cons.Replay(ctx, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got.Read != 5 || got.Fresh != 2 {
			t.Errorf("replay = %+v, want 5 read, 2 fresh", got)
		}
		msgs := r.smtp.Wait(5, 30*time.Second)
		// The consumer, recreated, reads the whole stream again: all skipped.
		r.startConsumer()
		before, _ := r.cons.Counts()
		r.waitConsumed(before + 5)
		if n := r.tasks(); n != 5 {
			t.Errorf("tasks = %d, want 5", n)
		}
		ids := map[string]int{}
		for _, m := range r.smtp.Messages() {
			ids[m.MessageID()]++
		}
		if len(ids) != 5 || len(msgs) != 5 {
			t.Errorf("distinct Message-IDs %d of %d emails, want 5 of 5", len(ids), len(r.smtp.Messages()))
		}
	})
}

func TestVoidedNoticeGoesToTheRecipientOfTheIssuedInvoice(t *testing.T) {
	r := newRig(t, notification.DefaultReactions())
	issuedID := uuid.NewString()
	ev := func(id, typ, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":%q,"subject":"inv-1","time":"2026-11-30T10:00:00Z","tenantid":"t","sequence":7,"invoiceversion":3,"data":%s}`, id, typ, data)
	}
	// sequence as a JSON number here: what publishers sent before it became a string.
	for _, m := range []struct{ typ, body string }{
		{notification.InvoiceIssued, ev(issuedID, notification.InvoiceIssued, issued("INV-2026-000010", "carol@example.com"))},
		{notification.InvoiceVoided, ev(uuid.NewString(), notification.InvoiceVoided, `{"invoice_id":"inv-1","number":"INV-2026-000010","reason":"<i>duplicate</i>","voided_at":"2026-11-30T11:00:00Z"}`)},
	} {
		if _, err := r.js.Publish(context.Background(), m.typ, []byte(m.body)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := r.smtp.Wait(2, 30*time.Second)
	var notice *smtptest.Message
	for i := range msgs {
		if msgs[i].Header.Get("X-Invoicing-Reaction") == "void-notice" {
			notice = &msgs[i]
		}
	}
	if notice == nil {
		t.Fatalf("no void notice among %d emails", len(msgs))
	}
	if notice.To[0] != "carol@example.com" || notice.Subject() != "Invoice INV-2026-000010 cancelled" {
		t.Errorf("notice to %v, subject %q", notice.To, notice.Subject())
	}
	if !strings.Contains(notice.HTML, "&lt;i&gt;duplicate&lt;/i&gt;") || !strings.Contains(notice.Text, "<i>duplicate</i>") {
		t.Errorf("reason not escaped in HTML or missing from text:\n%s\n%s", notice.HTML, notice.Text)
	}
}

func TestConsumerResumesAfterNATSRestart(t *testing.T) {
	r := newRig(t, notification.DefaultReactions())
	for i := range 5 {
		r.publish(uuid.NewString(), notification.InvoiceIssued, issued(fmt.Sprintf("INV-2026-%06d", i+1), "ada@example.com"))
	}
	r.smtp.Wait(5, 30*time.Second)
	reconnects := r.nc.Stats().Reconnects
	r.ns.Restart()
	// IsConnected alone can still be true of the connection to the stopped
	// server, before the client notices: then the next publish waits out
	// the reconnect and times out. Wait for the reconnect itself.
	deadline := time.Now().Add(30 * time.Second)
	for r.nc.Stats().Reconnects == reconnects || !r.nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("the client did not reconnect")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range 5 {
		r.publish(uuid.NewString(), notification.InvoiceIssued, issued(fmt.Sprintf("INV-2026-%06d", i+6), "ada@example.com"))
	}
	msgs := r.smtp.Wait(10, time.Minute)
	ids := map[string]bool{}
	for _, m := range msgs {
		ids[m.MessageID()] = true
	}
	if len(ids) != 10 {
		t.Errorf("%d distinct Message-IDs, want 10", len(ids))
	}
}
