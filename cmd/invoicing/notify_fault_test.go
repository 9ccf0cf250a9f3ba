package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// The notification faults, in the fault suite's style: the built binary
// (`invoicing notify`) under an SMTP outage and kill -9, then the emails the
// SMTP server holds are checked against the events published: every event's
// email delivered (distinct Message-IDs = expected), and every duplicate
// sharing its Message-ID. They run only with INVOICING_FAULT=1:
//
//	INVOICING_FAULT=1 go test -count=1 -run '^TestFaultNotify' -v ./cmd/invoicing
//
// Figures of a run: docs/reliability.md.

// notifyRig is a notify binary with its own database, embedded NATS (stream
// INVOICING created here) and SMTP server.
type notifyRig struct {
	t    *testing.T
	bin  string
	vars map[string]string
	js   jetstream.JetStream
	mail *smtptest.Server
}

func newNotifyRig(t *testing.T) *notifyRig {
	if os.Getenv("INVOICING_FAULT") != "1" {
		t.Skip("a fault run: set INVOICING_FAULT=1")
	}
	ns := natstest.New(t)
	mail := smtptest.New(t)
	vars := map[string]string{
		"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": ns.URL(), "SMTP_URL": mail.URL(),
		"MAIL_DOMAIN": "fault.test", "NOTIFY_RETRY_BASE": "100ms", "NOTIFY_RETRY_MAX": "2s", "NOTIFY_SEND_TIMEOUT": "5s",
	}
	if err := run(context.Background(), []string{"migrate", "up"}, env(vars), io.Discard); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "INVOICING", Subjects: []string{"invoicing.>"}}); err != nil {
		t.Fatal(err)
	}
	return &notifyRig{t: t, bin: buildBinary(t), vars: vars, js: js, mail: mail}
}

// start runs `invoicing notify` and waits until it listens.
func (r *notifyRig) start() *process {
	p := startProcess(r.t, r.bin, r.vars, "notify")
	select {
	case <-p.addr:
	case err := <-p.exit:
		r.t.Fatalf("notify exited: %v\n%s", err, p.logs.String())
	case <-time.After(30 * time.Second):
		r.t.Fatalf("notify did not listen within 30s\n%s", p.logs.String())
	}
	return p
}

// publish stores n invoicing.invoice.paid events, each of its own invoice,
// pausing every 50 to spread them over time, and returns their ids.
func (r *notifyRig) publish(ctx context.Context, n int, pause time.Duration) []string {
	ids := make([]string, n)
	for i := range n {
		ids[i] = uuid.NewString()
		ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":"invoicing.invoice.paid","subject":%q,"time":"2026-11-30T10:00:00Z",
"datacontenttype":"application/json","tenantid":"t","sequence":"%d","invoiceversion":4,"data":{"invoice_id":"i","number":"INV-2026-%06d",
"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","total":12000,"amount_paid":12000,"paid_at":"2026-11-30T10:00:00Z"}}`,
			ids[i], uuid.NewString(), i+1, i+1)
		if _, err := r.js.Publish(ctx, "invoicing.invoice.paid", []byte(ev), jetstream.WithMsgID(ids[i])); err != nil {
			r.t.Fatal(err)
		}
		if i%50 == 49 {
			time.Sleep(pause)
		}
	}
	return ids
}

// check waits until every event of ids has its receipt (or the bound
// passes), then reports expected, delivered (distinct Message-IDs) and
// duplicates, and fails on a missing email or a duplicate under another
// Message-ID.
func (r *notifyRig) check(ids []string, start time.Time) {
	r.t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want["<"+id+".receipt@fault.test>"] = true
	}
	deadline := time.Now().Add(3 * time.Minute)
	var msgs []smtptest.Message
	for {
		msgs = r.mail.Messages()
		got := map[string]bool{}
		for _, m := range msgs {
			got[m.MessageID()] = true
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	byID, byEvent := map[string]int{}, map[string]map[string]bool{}
	var last time.Time
	for _, m := range msgs {
		if byID[m.MessageID()] == 0 && m.Received.After(last) {
			last = m.Received
		}
		byID[m.MessageID()]++
		ev := m.Header.Get("X-Invoicing-Event-Id")
		if byEvent[ev] == nil {
			byEvent[ev] = map[string]bool{}
		}
		byEvent[ev][m.MessageID()] = true
	}
	missing := 0
	for id := range want {
		if byID[id] == 0 {
			missing++
		}
	}
	r.t.Logf("expected %d, delivered %d (distinct Message-IDs), duplicates %d, missing %d; %d emails in all; the last one %s after the run began",
		len(want), len(byID), len(msgs)-len(byID), missing, len(msgs), last.Sub(start).Round(time.Millisecond))
	if missing > 0 || len(byID) != len(want) {
		r.t.Errorf("%d emails missing, %d unexpected Message-IDs", missing, len(byID)-len(want)+missing)
	}
	for ev, mids := range byEvent {
		if len(mids) != 1 {
			r.t.Errorf("event %s was emailed under %d Message-IDs", ev, len(mids))
		}
	}
}

// kill9DuringABurst publishes 2000 events while it starts notify and
// kills it with SIGKILL five times, 700ms after each start; then it starts
// notify for good (killed when the test ends) and returns the events' ids
// and when the run began.
func (r *notifyRig) kill9DuringABurst() (ids []string, start time.Time) {
	r.t.Helper()
	start = time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	published := make(chan []string, 1)
	go func() { published <- r.publish(ctx, 2000, 100*time.Millisecond) }()
	kills := 0
	for range 5 {
		p := r.start()
		time.Sleep(700 * time.Millisecond)
		if err := p.cmd.Process.Kill(); err != nil { // SIGKILL
			r.t.Fatal(err)
		}
		<-p.exit
		kills++
	}
	p := r.start()
	r.t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	ids = <-published
	r.t.Logf("kill -9 of notify: %d times during a burst of %d events", kills, len(ids))
	return ids, start
}

func TestFaultNotifySMTPOutage(t *testing.T) {
	r := newNotifyRig(t)
	p := r.start()
	defer func() { _ = p.cmd.Process.Kill() }()
	start := time.Now()
	r.mail.Stop()
	ids := r.publish(context.Background(), 500, 200*time.Millisecond)
	time.Sleep(5 * time.Second) // the outage: every send meanwhile fails
	outage := time.Since(start)
	if n := len(r.mail.Messages()); n != 0 {
		t.Fatalf("%d emails accepted by a stopped server", n)
	}
	r.mail.Start()
	t.Logf("SMTP server down for %s while %d events were published", outage.Round(time.Millisecond), len(ids))
	r.check(ids, start)
}

func TestFaultNotifyKill9DuringABurst(t *testing.T) {
	r := newNotifyRig(t)
	ids, start := r.kill9DuringABurst()
	r.check(ids, start)
}

// publishInvoiceEvent stores one event of invoice at version, with the
// invoice's number, customer and currency, and returns its id.
func (r *notifyRig) publishInvoiceEvent(typ, invoice string, version int, data string) string {
	r.t.Helper()
	id := uuid.NewString()
	ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":"invoicing.invoice.%s","subject":%q,"time":"2026-12-01T00:00:00Z",
"datacontenttype":"application/json","tenantid":"t","sequence":"%d","invoiceversion":%d,"data":{"invoice_id":%q,"number":"INV-2026-000042",
"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR"%s}}`, id, typ, invoice, version, version, invoice, data)
	if _, err := r.js.Publish(context.Background(), "invoicing.invoice."+typ, []byte(ev), jetstream.WithMsgID(id)); err != nil {
		r.t.Fatal(err)
	}
	return id
}

// overdueHeld starts notify with a schedule of one reminder a second after
// the overdue event it publishes, and returns once the SMTP server has
// taken that reminder and holds its reply: claimed and sent, not recorded.
func (r *notifyRig) overdueHeld() (p *process, overdueID, invoice string) {
	r.t.Helper()
	r.vars["REMINDER_SCHEDULE"] = "1s"
	r.mail.Hold()
	r.t.Cleanup(r.mail.Release)
	p = r.start()
	invoice = uuid.NewString()
	overdueID = r.publishInvoiceEvent("overdue", invoice, 4,
		fmt.Sprintf(`,"due_date":"2026-11-30","amount_due":12000,"overdue_at":%q`, time.Now().UTC().Format(time.RFC3339Nano)))
	r.mail.Wait(1, time.Minute) // taken by the server; notify waits for the reply
	return p, overdueID, invoice
}

// reminders returns `invoicing notify reminders --invoice invoice`.
func (r *notifyRig) reminders(invoice string) string {
	r.t.Helper()
	var out strings.Builder
	if err := run(context.Background(), []string{"notify", "reminders", "--invoice", invoice}, env(r.vars), &out); err != nil {
		r.t.Fatal(err)
	}
	return out.String()
}

// TestFaultNotifyKill9BetweenReminderSendAndRecord kills notify with
// SIGKILL while the SMTP server holds a reminder it has taken but not yet
// answered: sent, not recorded. The next notify sends it again (its task
// is rescued), under the same Message-ID, and once only: at most one
// duplicate.
func TestFaultNotifyKill9BetweenReminderSendAndRecord(t *testing.T) {
	r := newNotifyRig(t)
	r.vars["NOTIFY_SEND_TIMEOUT"] = "2s" // the killed attempt is rescued after twice this
	start := time.Now()
	p, id, invoice := r.overdueHeld()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exit
	r.mail.Release()
	p = r.start()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	msgs := r.mail.Wait(2, 2*time.Minute)
	t.Logf("kill -9 of notify between a reminder's send and its record: sent again %s after the first",
		msgs[1].Received.Sub(msgs[0].Received).Round(time.Millisecond))
	var out string
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out, "exhausted"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the process never recorded its reminder:\n%s", out)
		}
		out = r.reminders(invoice)
	}
	time.Sleep(2 * time.Second) // a third copy would be on its way by now
	msgs = r.mail.Messages()
	want := "<" + id + ".reminder-1@fault.test>"
	for _, m := range msgs {
		if m.MessageID() != want {
			t.Errorf("email %s, want only %s", m.MessageID(), want)
		}
	}
	if len(msgs) != 2 {
		t.Errorf("%d copies of the reminder, want 2 (the one before the kill and its one duplicate)", len(msgs))
	}
	t.Logf("%d emails in all, %s after the run began; notify reminders:\n%s", len(msgs), time.Since(start).Round(time.Millisecond), out)
}

// TestFaultNotifyKill9BetweenReminderClaimAndRecordThenPaid kills notify
// with SIGKILL while the SMTP server holds a reminder, as above, and the
// invoice is paid before notify comes back. The rescued task finds the
// process closed and does not send the reminder again: a retry sends only
// while the process is active.
func TestFaultNotifyKill9BetweenReminderClaimAndRecordThenPaid(t *testing.T) {
	r := newNotifyRig(t)
	// The rescue waits twice this: long enough for the restarted notify
	// to take the paid event first.
	r.vars["NOTIFY_SEND_TIMEOUT"] = "10s"
	p, id, invoice := r.overdueHeld()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exit
	r.mail.Release()
	r.publishInvoiceEvent("paid", invoice, 5, `,"total":12000,"amount_paid":12000,"paid_at":"2026-12-02T10:00:00Z"`)
	p = r.start()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	pool, err := pgxpool.New(context.Background(), r.vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// The reminder's task, until rescued: running, attempted once.
	task := func() (state string, attempt int) {
		err := pool.QueryRow(context.Background(), `SELECT state, attempt FROM notification.river_job
			WHERE kind = 'notification.reminder' AND args->>'invoice_id' = $1`, invoice).Scan(&state, &attempt)
		if err != nil {
			t.Fatal(err)
		}
		return state, attempt
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(r.reminders(invoice), "closed"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the paid event did not close the process:\n%s", r.reminders(invoice))
		}
	}
	if state, attempt := task(); attempt > 1 {
		t.Fatalf("the task was retried (%s, attempt %d) before the paid event was handled: the machine is too slow for this run", state, attempt)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		state, attempt := task()
		if state == "completed" {
			t.Logf("the rescued task (attempt %d) completed", attempt)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reminder's task is %s after 2 minutes (attempt %d)", state, attempt)
		}
	}
	want := "<" + id + ".reminder-1@fault.test>"
	reminders := 0
	for _, m := range r.mail.Messages() {
		if strings.Contains(m.MessageID(), ".reminder-") {
			reminders++
			if m.MessageID() != want {
				t.Errorf("reminder %s, want only %s", m.MessageID(), want)
			}
		}
	}
	if reminders != 1 {
		t.Errorf("%d copies of the reminder, want the one taken before the kill: the invoice was paid before the retry", reminders)
	}
}
