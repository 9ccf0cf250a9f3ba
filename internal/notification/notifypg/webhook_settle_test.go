package notifypg_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// answer500 answers 500 with body.
func answer500(body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(body))
	}
}

// TestWebhookAnswerWithNULIsRecorded: a receiver's 500 whose body holds a
// NUL and bytes that are not UTF-8 is logged as an attempt like any other,
// and the delivery follows its schedule to the next answer.
func TestWebhookAnswerWithNULIsRecorded(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{})
	r := newReceiver(t, answer500("bad\x00gateway \xff\xfe"))
	e := h.register(t, "acme", r.URL, "*")
	h.publish(t, event(t, "acme", notification.InvoicePaid, time.Now()))
	waitFor(t, "the delivery settled", func() bool {
		ds := h.deliveries(t, "acme", e)
		return len(ds) == 1 && ds[0].Status != webhook.DeliveryPending
	})
	d := h.deliveries(t, "acme", e)[0]
	codes := []int{}
	for _, a := range d.Attempts {
		codes = append(codes, a.StatusCode)
	}
	if d.Status != webhook.DeliverySucceeded || fmt.Sprint(codes) != "[500 200]" {
		t.Fatalf("delivery %s with attempts %v, want succeeded with [500 200]", d.Status, codes)
	}
	msg := d.Attempts[0].Error
	if !strings.HasPrefix(msg, "HTTP 500: bad") || strings.ContainsRune(msg, 0) || !utf8.ValidString(msg) {
		t.Errorf("attempt error %q, want the receiver's text, valid UTF-8 without NUL", msg)
	}
}

// TestWebhookTaskOutOfAttemptsSettlesTheDelivery: when every run of a
// delivery's task fails inside the worker (here its attempts cannot be
// recorded), River discards the task after NOTIFY_MAX_ATTEMPTS; the
// delivery must not stay pending without a task: it fails, saying why, and
// can be retried.
func TestWebhookTaskOutOfAttemptsSettlesTheDelivery(t *testing.T) {
	h := newHarnessOf(t, notifypg.QueueConfig{MaxAttempts: 2, RetryBase: 10 * time.Millisecond})
	ctx := context.Background()
	if _, err := h.pool.Exec(ctx, `CREATE FUNCTION notification.refuse_500() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN IF NEW.status_code = 500 THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER refuse_500 BEFORE INSERT ON notification.webhook_attempts FOR EACH ROW EXECUTE FUNCTION notification.refuse_500()`); err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t, status(500), status(500))
	e := h.register(t, "acme", r.URL, "*")
	h.publish(t, event(t, "acme", notification.InvoicePaid, time.Now()))
	waitFor(t, "the delivery failed once its task ran out of attempts", func() bool {
		ds := h.deliveries(t, "acme", e)
		return len(ds) == 1 && ds[0].Status == webhook.DeliveryFailed
	})
	d := h.deliveries(t, "acme", e)[0]
	if n := len(d.Attempts); n != 1 || d.Attempts[0].Error == "" || strings.Contains(d.Attempts[0].Error, "refused by the test") {
		t.Errorf("attempts %+v, want one saying the delivery was given up, without the database's text", d.Attempts)
	}
	if err := h.wh.Retry(ctx, "acme", e.ID, d.ID); err != nil {
		t.Fatalf("retry of the failed delivery: %v", err)
	}
	waitFor(t, "the retried delivery succeeded", func() bool {
		ds := h.deliveries(t, "acme", e)
		return len(ds) == 1 && ds[0].Status == webhook.DeliverySucceeded
	})
}

// TestPruneSettlesDeliveriesWithoutATask: a pending delivery whose task
// River ended without settling it (discarded by the rescuer after a crash
// in its last attempt, or after panics) is failed by the hourly pruning,
// saying why; one whose task is still to run is left alone.
func TestPruneSettlesDeliveriesWithoutATask(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	_, err := pool.Exec(ctx, `INSERT INTO notification.webhook_endpoints (id, tenant_id, url, enabled_events, secret) VALUES
		('019ad1c2-0000-7000-8000-00000000000a', 'acme', 'https://a.example', '{*}', 's');
		INSERT INTO notification.webhook_events (id, body) VALUES ('e1', 'x'), ('e2', 'x');
		INSERT INTO notification.webhook_deliveries (id, endpoint_id, event_id, event_type, event_time) VALUES
		('019ad1c2-0000-7000-8000-000000000001', '019ad1c2-0000-7000-8000-00000000000a', 'e1', 't', now()),
		('019ad1c2-0000-7000-8000-000000000002', '019ad1c2-0000-7000-8000-00000000000a', 'e2', 't', now());
		INSERT INTO notification.river_job (kind, queue, args, state, attempt, max_attempts, finalized_at) VALUES
		('notification.webhook', 'webhook', '{"delivery_id":"019ad1c2-0000-7000-8000-000000000001"}', 'discarded', 25, 25, now()),
		('notification.webhook', 'webhook', '{"delivery_id":"019ad1c2-0000-7000-8000-000000000002"}', 'available', 0, 25, NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	// Emails only: the webhook task stays available, not run.
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Mailer: nopMailer{}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = q.Stop(ctx) }()
	wh := q.Webhooks()
	waitFor(t, "the delivery without a task failed", func() bool {
		ds, _, err := wh.Deliveries(ctx, "acme", "019ad1c2-0000-7000-8000-00000000000a", webhook.DeliveryFilter{Page: webhook.Page{Limit: 10}})
		return err == nil && len(ds) == 2 && ds[1].Status == webhook.DeliveryFailed && len(ds[1].Attempts) == 1
	})
	ds, _, _ := wh.Deliveries(ctx, "acme", "019ad1c2-0000-7000-8000-00000000000a", webhook.DeliveryFilter{Page: webhook.Page{Limit: 10}})
	if ds[0].Status != webhook.DeliveryPending || len(ds[0].Attempts) != 0 {
		t.Errorf("the delivery whose task is to run: %s with %d attempts, want pending with none", ds[0].Status, len(ds[0].Attempts))
	}
}
