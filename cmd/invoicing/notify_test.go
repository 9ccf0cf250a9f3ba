package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// eventIDs returns the ids of an invoice's events by CloudEvent type.
func eventIDs(c client, invoiceID string) map[string]string {
	c.t.Helper()
	page := c.call("GET", "/v1/invoices/"+invoiceID+"/events", ``, 200)
	ids := map[string]string{}
	for _, e := range page["data"].([]any) {
		ev := e.(map[string]any)
		ids[ev["type"].(string)] = ev["id"].(string)
	}
	return ids
}

// TestServeNotifiesEndToEnd issues and pays an invoice over HTTP against the
// real program with its relay and notification consumer inside (its own
// embedded NATS, an in-process SMTP server), and reads the invoice email and
// the receipt the SMTP server received.
func TestServeNotifiesEndToEnd(t *testing.T) {
	mail := smtptest.New(t)
	base, keys, stop := startNotifyingServe(t, map[string]string{"SMTP_URL": mail.URL(), "MAIL_FROM": "Billing <billing@example.com>", "MAIL_DOMAIN": "mail.test"}, "acme")
	c := client{t: t, base: base, key: keys["acme"]}

	inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada <Lovelace>","email":"ada@example.com"},"currency":"KWD","due_date":"2026-12-31",
		"lines":[{"description":"<b>Consulting</b>","quantity":2,"unit_amount":750,"tax_rate_bps":0}]}`, 201)
	id := inv["id"].(string)
	number := c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)["number"].(string)
	c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":1500,"reference":"psp_1"}`, 200)
	ids := eventIDs(c, id)

	msgs := mail.Wait(2, time.Minute)
	bySubject := map[string]smtptest.Message{}
	for _, m := range msgs {
		bySubject[m.Subject()] = m
	}
	for _, want := range []struct{ subject, reaction, event, amount string }{
		{"Invoice " + number, "invoice", ids["invoicing.invoice.issued"], "KWD 1.500"},
		{"Receipt for invoice " + number, "receipt", ids["invoicing.invoice.paid"], "KWD 1.500"},
	} {
		m, ok := bySubject[want.subject]
		if !ok {
			t.Errorf("no email with subject %q among %d", want.subject, len(msgs))
			continue
		}
		if len(m.To) != 1 || m.To[0] != "ada@example.com" {
			t.Errorf("%s: to %v", want.subject, m.To)
		}
		if got, wantID := m.MessageID(), "<"+want.event+"."+want.reaction+"@mail.test>"; got != wantID {
			t.Errorf("%s: Message-ID %q, want %q", want.subject, got, wantID)
		}
		if m.Header.Get("X-Invoicing-Event-Id") != want.event {
			t.Errorf("%s: X-Invoicing-Event-Id %q, want %q", want.subject, m.Header.Get("X-Invoicing-Event-Id"), want.event)
		}
		if !strings.Contains(m.Text, want.amount) || !strings.Contains(m.HTML, want.amount) {
			t.Errorf("%s: amount %s missing:\n%s\n%s", want.subject, want.amount, m.Text, m.HTML)
		}
	}
	if inv := bySubject["Invoice "+number]; strings.Contains(inv.HTML, "<b>Consulting") || !strings.Contains(inv.HTML, "&lt;b&gt;Consulting") {
		t.Errorf("the line description is not escaped in HTML:\n%s", inv.HTML)
	}
	if len(msgs) != 2 {
		t.Errorf("%d emails, want 2", len(msgs))
	}

	stop()
}

// TestNotifyWithoutSMTPIsNotReady runs `invoicing notify` alone without
// SMTP_URL: it runs, and /readyz says emails are disabled.
func TestNotifyWithoutSMTPIsNotReady(t *testing.T) {
	ns := natstest.New(t)
	getenv := env(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": ns.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, []string{"notify"}, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), "migrate up") {
		t.Fatalf("notify on an unmigrated database: %v, want an error saying to run migrate up", err)
	}
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	base, stop := startCommand(t, getenv, "notify")
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Checks map[string]struct{ Status, Reason string }
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz: %d %v", resp.StatusCode, err)
	}
	if smtp := body.Checks["smtp"]; smtp.Status != "failed" || !strings.Contains(smtp.Reason, "SMTP_URL") {
		t.Errorf("smtp check = %+v, want failed naming SMTP_URL", smtp)
	}
	if db := body.Checks["database"]; db.Status != "ok" {
		t.Errorf("database check = %+v", db)
	}
	wantMetric(t, base, `notification_tasks{state="discarded"} 0`, "notification_tasks")
	stop()
}

// TestNotifyFailedAndRetry parks an email the SMTP server keeps refusing,
// lists it with `notify failed`, sends it with `notify retry --all`, and
// replays the last hour with `notify replay`, which finds nothing new.
func TestNotifyFailedAndRetry(t *testing.T) {
	ns := natstest.New(t)
	mail := smtptest.New(t)
	getenv := env(map[string]string{
		"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": ns.URL(), "SMTP_URL": mail.URL(),
		"NOTIFY_MAX_ATTEMPTS": "2", "NOTIFY_RETRY_BASE": "10ms", "MAIL_DOMAIN": "mail.test",
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "INVOICING", Subjects: []string{"invoicing.>"}}); err != nil {
		t.Fatal(err)
	}
	const eventID = "019ad1c2-0000-7000-8000-000000000001"
	if _, err := js.Publish(ctx, "invoicing.invoice.paid", []byte(`{"specversion":"1.0","id":"`+eventID+`","source":"/invoicing",
		"type":"invoicing.invoice.paid","subject":"019ad1c2-0000-7000-8000-0000000000aa","time":"2026-11-30T10:00:00Z","datacontenttype":"application/json",
		"tenantid":"019ad1c2-0000-7000-8000-0000000000bb","sequence":"12","invoiceversion":4,
		"data":{"invoice_id":"019ad1c2-0000-7000-8000-0000000000aa","number":"INV-2026-000009","customer":{"name":"Ada","email":"ada@example.com"},
		"currency":"JPY","total":1200,"amount_paid":1200,"paid_at":"2026-11-30T10:00:00Z"}}`)); err != nil {
		t.Fatal(err)
	}
	mail.Reject(func(smtptest.Message) error { return io.ErrUnexpectedEOF })

	_, stop := startCommand(t, getenv, "notify")

	var listing string
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(listing, "1 failed tasks"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the refused email was not parked:\n%s", listing)
		}
		var out strings.Builder
		if err := run(ctx, []string{"notify", "failed"}, getenv, &out); err != nil {
			t.Fatalf("notify failed: %v", err)
		}
		listing = out.String()
	}
	if !strings.Contains(listing, eventID) || !strings.Contains(listing, "receipt") || !strings.Contains(listing, "discarded") {
		t.Errorf("listing lacks the event, reaction or state:\n%s", listing)
	}
	if len(mail.Messages()) != 0 {
		t.Fatalf("an email was accepted while refusing")
	}
	if err := run(ctx, []string{"notify", "retry", "999999"}, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), "no failed task") {
		t.Errorf("retry of an unknown task: %v", err)
	}
	mail.Reject(nil)
	var out strings.Builder
	if err := run(ctx, []string{"notify", "retry", "--all"}, getenv, &out); err != nil || !strings.Contains(out.String(), "re-queued 1 failed tasks") {
		t.Fatalf("notify retry --all: %v, %q", err, out.String())
	}
	m := mail.Wait(1, 30*time.Second)[0]
	if m.MessageID() != "<"+eventID+".receipt@mail.test>" || !strings.Contains(m.Text, "JPY 1,200") {
		t.Errorf("email: Message-ID %q, text:\n%s", m.MessageID(), m.Text)
	}
	// Its logs (NATS callbacks) and its answer share stdout.
	replayed := &syncBuffer{}
	if err := run(ctx, []string{"notify", "replay", "--since", "1h"}, getenv, replayed); err != nil || !strings.Contains(replayed.String(), "replayed 1 events") || !strings.Contains(replayed.String(), ": 0 new") {
		t.Errorf("notify replay --since 1h: %v, %q", err, replayed.String())
	}
	stop()
}

func TestNotifyCommandLine(t *testing.T) {
	getenv := env(nil)
	for _, args := range [][]string{{"notify", "retry"}, {"notify", "retry", "x"}, {"notify", "replay", "1h"}, {"notify", "replay", "--since", "yesterday"}, {"notify", "frob"},
		{"notify", "reminders", "x"}, {"notify", "reminders", "--invoice"}, {"notify", "reminders", "--since", "x"}} {
		if err := run(context.Background(), args, getenv, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	err := run(context.Background(), []string{"notify", "replay", "--since", "2000-01-01T00:00:00Z"}, getenv, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "NOTIFY_INBOX_RETENTION") {
		t.Errorf("replay beyond the inbox horizon: %v, want a refusal naming NOTIFY_INBOX_RETENTION", err)
	}
}

// TestNotifyOnAnUnreachableDatabaseSaysSo: the notify commands, given a
// database where nothing listens, say that they could not reach it and
// through which variable, not that the schema needs `migrate up` (which
// would fail the same way).
func TestNotifyOnAnUnreachableDatabaseSaysSo(t *testing.T) {
	nowhere := "postgres://postgres@" + freePort(t) + "/invoicing?sslmode=disable"
	for _, vars := range []map[string]string{
		{"DATABASE_URL": nowhere},
		{"DATABASE_URL": pgtest.NewURL(t), "NOTIFY_DATABASE_URL": nowhere},
	} {
		want := "DATABASE_URL"
		if vars["NOTIFY_DATABASE_URL"] != "" {
			want = "NOTIFY_DATABASE_URL"
		}
		vars["HTTP_ADDR"] = "127.0.0.1:0"
		for _, args := range [][]string{{"notify"}, {"notify", "failed"}, {"notify", "retry", "--all"}} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := run(ctx, args, env(vars), io.Discard)
			cancel()
			if err == nil || strings.Contains(err.Error(), "migrate up") || !strings.Contains(err.Error(), want) {
				t.Errorf("invoicing %s with %s unreachable: %v\nwant an error naming %s, not asking for migrate up", strings.Join(args, " "), want, err, want)
			}
		}
	}
}

// TestNotifyReplayWithoutNATSSaysSo: `notify replay` with no NATS server
// to reach fails at once naming NATS_URL (and, with NATS_URL=embedded, the
// serve or relay that must host it), not with nats.go's "outbound buffer
// limit exceeded".
func TestNotifyReplayWithoutNATSSaysSo(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, []string{"migrate", "up"}, env(map[string]string{"DATABASE_URL": dbURL}), io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	for _, c := range []struct {
		vars map[string]string
		want []string
	}{
		{map[string]string{"NATS_URL": "nats://u:hunter2@" + freePort(t)}, []string{"NATS_URL"}},
		{map[string]string{"NATS_URL": "embedded", "NATS_EMBEDDED_ADDR": freePort(t)}, []string{"NATS_URL=embedded", "NATS_EMBEDDED_ADDR", "serve"}},
	} {
		c.vars["DATABASE_URL"] = dbURL
		err := run(ctx, []string{"notify", "replay", "--since", "1h"}, env(c.vars), io.Discard)
		if err == nil || strings.Contains(err.Error(), "buffer") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("notify replay with %v: %v, want an error naming %v (and no password)", c.vars, err, c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("notify replay with %v: %v, want it to name %s", c.vars, err, w)
			}
		}
	}
}

// notify failed and notify retry send nothing: their output is their
// listing, without the warning that emails are off (SMTP_URL unset), which
// only the processes that consume events log.
func TestNotifyToolsDoNotWarnOfEmailsTheyNeverSend(t *testing.T) {
	ctx := context.Background()
	getenv := env(map[string]string{"DATABASE_URL": pgtest.NewURL(t)})
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	for _, args := range [][]string{{"notify", "failed"}, {"notify", "retry", "--all"}} {
		var out strings.Builder
		if err := run(ctx, args, getenv, &out); err != nil || strings.Contains(out.String(), "SMTP_URL") {
			t.Errorf("invoicing %s: %v\n%s\nwant its output only", strings.Join(args, " "), err, out.String())
		}
	}
}

// TestNotifyRemindersRefusesAMalformedInvoiceID: the filter is checked
// before anything is read, and the refusal names the field.
func TestNotifyRemindersRefusesAMalformedInvoiceID(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": pgtest.NewURL(t)}
	if err := run(context.Background(), []string{"migrate", "up"}, env(vars), io.Discard); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err := run(context.Background(), []string{"notify", "reminders", "--invoice", "INV-2026-000042"}, env(vars), &out)
	if err == nil || !strings.Contains(err.Error(), "invoice") {
		t.Errorf("err %v, want a refusal naming the invoice", err)
	}
	if err := run(context.Background(), []string{"notify", "reminders"}, env(vars), &out); err != nil || !strings.Contains(out.String(), "0 reminder processes") {
		t.Errorf("on an empty schema: %v\n%s", err, out.String())
	}
}

// TestServeRemindsOfAnOverdueInvoice runs the whole way with the invoicing
// context's own events: an invoice due yesterday becomes overdue by
// serve's job, the notification context schedules its reminders, and the
// one of a seconds-long schedule arrives naming the amount still due under
// the overdue event's Message-ID; a partial payment before it lowers that
// amount, and /metrics counts the process and the reminder.
func TestServeRemindsOfAnOverdueInvoice(t *testing.T) {
	mail := smtptest.New(t)
	base, keys, stop := startNotifyingServe(t, map[string]string{"SMTP_URL": mail.URL(), "MAIL_DOMAIN": "mail.test",
		"REMINDER_SCHEDULE": "5s", "OVERDUE_INTERVAL": "50ms"}, "acme")
	defer stop()
	c := client{t: t, base: base, key: keys["acme"]}
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	id := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","due_date":"`+yesterday+`",
		"lines":[{"description":"Consulting","quantity":1,"unit_amount":12000}]}`, 201)["id"].(string)
	number := c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)["number"].(string)
	for deadline := time.Now().Add(30 * time.Second); eventIDs(c, id)["invoicing.invoice.overdue"] == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the invoice never became overdue")
		}
	}
	c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":2050,"reference":"psp_1"}`, 200)
	overdue := eventIDs(c, id)["invoicing.invoice.overdue"]

	var reminder smtptest.Message
	for deadline := time.Now().Add(time.Minute); reminder.Raw == nil; time.Sleep(50 * time.Millisecond) {
		for _, m := range mail.Messages() {
			if strings.Contains(m.MessageID(), ".reminder-") {
				reminder = m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reminder within a minute; %d emails", len(mail.Messages()))
		}
	}
	if got, want := reminder.MessageID(), "<"+overdue+".reminder-1@mail.test>"; got != want {
		t.Errorf("Message-ID %s, want %s", got, want)
	}
	for _, want := range []string{"EUR 99.50", number, yesterday} {
		if !strings.Contains(reminder.Text, want) {
			t.Errorf("the reminder lacks %q:\n%s", want, reminder.Text)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `notification_reminder_processes{state="exhausted"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the process is not counted exhausted:\n%s", grepLines(string(b), "notification_reminder"))
		}
	}
	wantMetric(t, base, "notification_reminders_sent_total 1", "notification_reminders_sent_total")
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
