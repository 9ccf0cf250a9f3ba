package notifypg_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// receiver is a webhook receiver on loopback that records what it gets and
// answers with the statuses its script gives, then 200.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	script []func(w http.ResponseWriter)
}

type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, script ...func(w http.ResponseWriter)) *receiver {
	r := &receiver{script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, received{at: time.Now(), header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		if n < len(r.script) {
			r.script[n](w)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

func status(code int) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.WriteHeader(code) }
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// waitFor polls cond for up to 60s (a generous bound: the machine is shared).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: %s", what)
		}
	}
}

type harness struct {
	pool *pgxpool.Pool
	q    *notifypg.Queue
	wh   *notifypg.Webhooks
	in   *notifypg.WebhookInbox
}

// newPool returns a pool on a fresh database holding the notification
// schema, closed when the test ends.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	dbURL := pgtest.NewURL(t)
	if err := notifypg.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func newHarness(t testing.TB, cfg notifypg.WebhookConfig) *harness {
	t.Helper()
	return newHarnessOf(t, notifypg.QueueConfig{Webhooks: cfg})
}

// newHarnessOf is newHarness with the rest of the queue's configuration.
func newHarnessOf(t testing.TB, qc notifypg.QueueConfig) *harness {
	t.Helper()
	cfg := qc.Webhooks
	ctx := context.Background()
	pool := newPool(t)
	if cfg.Sender == nil {
		cfg.Sender = webhook.NewSender(webhook.SenderConfig{Timeout: 5 * time.Second, Policy: webhook.Policy{AllowPrivate: true}})
	}
	if cfg.Schedule == nil {
		cfg.Schedule = webhook.Schedule{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}
	}
	qc.Webhooks = cfg
	q, err := notifypg.NewQueue(pool, qc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	return &harness{pool: pool, q: q, wh: q.Webhooks(), in: q.WebhookInbox("webhooks")}
}

func (h *harness) register(t testing.TB, tenant, url string, events ...string) webhook.Endpoint {
	t.Helper()
	e, err := h.wh.Create(context.Background(), tenant, webhook.NewEndpoint{URL: url, EnabledEvents: events})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// event returns a CloudEvent of typ for tenant, as the relay publishes it.
func event(t testing.TB, tenant, typ string, at time.Time) notification.Event {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	raw := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":%q,"subject":"inv_1","time":%q,"tenantid":%q,"sequence":"7","datacontenttype":"application/json","data":{"invoice_id":"inv_1","amount_paid":1190}}`,
		id, typ, at.UTC().Format(time.RFC3339Nano), tenant)
	ev, err := notification.DecodeEvent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (h *harness) publish(t testing.TB, evs ...notification.Event) {
	t.Helper()
	if _, err := h.in.Handle(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) deliveries(t *testing.T, tenant string, e webhook.Endpoint) []webhook.Delivery {
	t.Helper()
	ds, _, err := h.wh.Deliveries(context.Background(), tenant, e.ID, webhook.DeliveryFilter{Page: webhook.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestWebhookDeliveredSignedAndFiltered(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{})
	paidOnly := newReceiver(t)
	all := newReceiver(t)
	other := newReceiver(t)
	ePaid := h.register(t, "acme", paidOnly.URL+"/hook", notification.InvoicePaid)
	h.register(t, "acme", all.URL, "*")
	h.register(t, "globex", other.URL, "*")

	paid := event(t, "acme", notification.InvoicePaid, time.Now())
	issued := event(t, "acme", notification.InvoiceIssued, time.Now())
	h.publish(t, issued, paid)
	h.publish(t, paid) // a re-delivery: nothing more

	waitFor(t, "both events at the catch-all endpoint", func() bool { return len(all.received()) == 2 })
	waitFor(t, "the paid event at the paid endpoint", func() bool { return len(paidOnly.received()) == 1 })
	got := paidOnly.received()[0]
	if string(got.body) != string(paid.Raw) {
		t.Errorf("body:\n%s\nwant the CloudEvent as published:\n%s", got.body, paid.Raw)
	}
	if id := got.header.Get("webhook-id"); id != paid.ID {
		t.Errorf("webhook-id %q, want the event id %q", id, paid.ID)
	}
	v, err := standardwebhooks.NewWebhook(ePaid.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(got.body, got.header); err != nil {
		t.Errorf("the Standard Webhooks library rejects the signature: %v (headers %v)", err, got.header)
	}
	// Give a wrongly routed delivery time to show up before checking none did.
	time.Sleep(500 * time.Millisecond)
	if n := len(other.received()); n != 0 {
		t.Errorf("tenant globex's endpoint received %d of tenant acme's events", n)
	}
	if n := len(paidOnly.received()); n != 1 {
		t.Errorf("the paid-only endpoint received %d deliveries, want 1", n)
	}
	ds := h.deliveries(t, "acme", ePaid)
	if len(ds) != 1 || ds[0].Status != webhook.DeliverySucceeded || len(ds[0].Attempts) != 1 || ds[0].Attempts[0].StatusCode != 200 {
		t.Errorf("deliveries %+v, want one succeeded with one 200 attempt", ds)
	}
	if _, _, err := h.wh.Deliveries(context.Background(), "globex", ePaid.ID, webhook.DeliveryFilter{Page: webhook.Page{Limit: 10}}); err != webhook.ErrNotFound {
		t.Errorf("globex reading acme's deliveries: %v, want ErrNotFound", err)
	}
}

func TestWebhookRetriesThenSucceeds(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{})
	r := newReceiver(t, status(500), status(500), status(500))
	e := h.register(t, "acme", r.URL, "*")
	ev := event(t, "acme", notification.InvoicePaid, time.Now())
	h.publish(t, ev)
	waitFor(t, "the delivery succeeded", func() bool {
		ds := h.deliveries(t, "acme", e)
		return len(ds) == 1 && ds[0].Status == webhook.DeliverySucceeded
	})
	ds := h.deliveries(t, "acme", e)
	codes := []int{}
	for _, a := range ds[0].Attempts {
		codes = append(codes, a.StatusCode)
	}
	if fmt.Sprint(codes) != "[500 500 500 200]" {
		t.Errorf("attempts %v, want [500 500 500 200]", codes)
	}
	for _, g := range r.received() {
		if g.header.Get("webhook-id") != ev.ID {
			t.Errorf("an attempt carried webhook-id %q, want %q", g.header.Get("webhook-id"), ev.ID)
		}
	}
}

func TestWebhookSchedulePastItsEndFails(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{Schedule: webhook.Schedule{10 * time.Millisecond}})
	r := newReceiver(t, status(500), status(502), status(500))
	e := h.register(t, "acme", r.URL, "*")
	h.publish(t, event(t, "acme", notification.InvoicePaid, time.Now()))
	waitFor(t, "the delivery failed", func() bool {
		ds := h.deliveries(t, "acme", e)
		return len(ds) == 1 && ds[0].Status == webhook.DeliveryFailed
	})
	if ds := h.deliveries(t, "acme", e); len(ds[0].Attempts) != 2 {
		t.Errorf("%d attempts, want 2 (a schedule of one wait)", len(ds[0].Attempts))
	}
}

func TestWebhookRetryAfterIsHonoured(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{Schedule: webhook.Schedule{10 * time.Millisecond, 10 * time.Second}})
	r := newReceiver(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	h.register(t, "acme", r.URL, "*")
	h.publish(t, event(t, "acme", notification.InvoicePaid, time.Now()))
	waitFor(t, "the second attempt", func() bool { return len(r.received()) == 2 })
	got := r.received()
	// The schedule alone would retry after 10ms.
	if gap := got[1].at.Sub(got[0].at); gap < 2*time.Second {
		t.Errorf("retried %s after a 429 with Retry-After: 2, want at least 2s", gap)
	}
}

func TestWebhookGoneDisablesTheEndpoint(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{})
	r := newReceiver(t, status(http.StatusGone))
	e := h.register(t, "acme", r.URL, "*")
	h.publish(t, event(t, "acme", notification.InvoicePaid, time.Now()))
	waitFor(t, "the endpoint disabled", func() bool {
		got, err := h.wh.Get(context.Background(), "acme", e.ID)
		return err == nil && got.Status == webhook.StatusDisabled
	})
	h.publish(t, event(t, "acme", notification.InvoicePaid, time.Now()))
	time.Sleep(500 * time.Millisecond)
	if n := len(r.received()); n != 1 {
		t.Errorf("a disabled endpoint received %d requests, want the one that answered 410", n)
	}
	if ds := h.deliveries(t, "acme", e); len(ds) != 1 || ds[0].Status != webhook.DeliveryFailed {
		t.Errorf("deliveries %+v, want the one failed", ds)
	}
}

func TestWebhookFailingEndpointDoesNotDelayAnother(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{Workers: 6, PerEndpoint: 2, PerTenant: 4})
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // hang until the test ends (or the sender's timeout)
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer slow.Close()
	defer close(release)
	healthy := newReceiver(t)
	h.register(t, "acme", slow.URL, "*")
	h.register(t, "acme", healthy.URL, "*")
	var evs []notification.Event
	for range 20 {
		evs = append(evs, event(t, "acme", notification.InvoicePaid, time.Now()))
	}
	h.publish(t, evs...)
	waitFor(t, "every event at the healthy endpoint while the other hangs", func() bool { return len(healthy.received()) == 20 })
}

func TestWebhookRotationSignsWithBothSecretsDuringOverlap(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{SecretOverlap: time.Hour})
	r := newReceiver(t)
	e := h.register(t, "acme", r.URL, "*")
	old := e.Secret
	rotated, err := h.wh.RotateSecret(context.Background(), "acme", e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == old || rotated.PreviousSecret != old {
		t.Fatalf("after rotation: secret %q previous %q, want a new one and the old", rotated.Secret, rotated.PreviousSecret)
	}
	h.publish(t, event(t, "acme", notification.InvoicePaid, time.Now()))
	waitFor(t, "a delivery", func() bool { return len(r.received()) == 1 })
	got := r.received()[0]
	for name, s := range map[string]string{"old": old, "new": rotated.Secret} {
		v, _ := standardwebhooks.NewWebhook(s)
		if err := v.Verify(got.body, got.header); err != nil {
			t.Errorf("during the overlap the %s secret does not verify: %v", name, err)
		}
	}
	// End the overlap.
	if _, err := h.pool.Exec(context.Background(), `UPDATE notification.webhook_endpoints SET previous_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	h.publish(t, event(t, "acme", notification.InvoicePaid, time.Now()))
	waitFor(t, "a second delivery", func() bool { return len(r.received()) == 2 })
	got = r.received()[1]
	vNew, _ := standardwebhooks.NewWebhook(rotated.Secret)
	vOld, _ := standardwebhooks.NewWebhook(old)
	if err := vNew.Verify(got.body, got.header); err != nil {
		t.Errorf("after the overlap the new secret does not verify: %v", err)
	}
	if err := vOld.Verify(got.body, got.header); err == nil {
		t.Error("after the overlap the old secret still verifies")
	}
}

func TestWebhookReplayResendsSinceWithTheSameIDs(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{})
	r := newReceiver(t)
	e := h.register(t, "acme", r.URL, "*")
	base := time.Now().Add(-time.Hour)
	var evs []notification.Event
	for i := range 5 {
		evs = append(evs, event(t, "acme", notification.InvoicePaid, base.Add(time.Duration(i)*time.Minute)))
	}
	h.publish(t, evs...)
	waitFor(t, "5 deliveries succeeded", func() bool {
		ds := h.deliveries(t, "acme", e)
		for _, d := range ds {
			if d.Status != webhook.DeliverySucceeded {
				return false
			}
		}
		return len(ds) == 5
	})
	got, err := h.wh.Replay(context.Background(), "acme", e.ID, webhook.Replay{Since: base.Add(2 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Queued != 3 || got.More {
		t.Errorf("replay: %+v, want 3 deliveries queued and no more", got)
	}
	waitFor(t, "8 deliveries", func() bool { return len(r.received()) == 8 })
	replayed := map[string]bool{}
	for _, g := range r.received()[5:] {
		replayed[g.header.Get("webhook-id")] = true
	}
	for i, ev := range evs {
		if replayed[ev.ID] != (i >= 2) {
			t.Errorf("event %d (id %s) replayed: %t, want %t", i, ev.ID, replayed[ev.ID], i >= 2)
		}
	}
}

func TestWebhookFailingPastDisableAfterDisablesAndTells(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{
		DisableAfter: 300 * time.Millisecond,
		Schedule:     webhook.Schedule{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond},
	})
	var script []func(http.ResponseWriter)
	for range 100 {
		script = append(script, status(http.StatusInternalServerError))
	}
	failing := newReceiver(t, script...)
	watcher := newReceiver(t)
	e := h.register(t, "acme", failing.URL, notification.InvoicePaid)
	h.register(t, "acme", watcher.URL, webhook.EndpointDisabledType)
	h.publish(t, event(t, "acme", notification.InvoicePaid, time.Now()))
	waitFor(t, "the disabled event at the watching endpoint", func() bool { return len(watcher.received()) == 1 })
	got, err := h.wh.Get(context.Background(), "acme", e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != webhook.StatusDisabled || !strings.Contains(got.DisabledReason, "WEBHOOK_DISABLE_AFTER") {
		t.Errorf("endpoint %s (%q), want disabled after WEBHOOK_DISABLE_AFTER", got.Status, got.DisabledReason)
	}
	var ev struct {
		TenantID string `json:"tenantid"`
		Data     struct {
			EndpointID string `json:"endpoint_id"`
		} `json:"data"`
	}
	body := watcher.received()[0].body
	_ = json.Unmarshal(body, &ev)
	if !strings.Contains(string(body), `"type":"`+webhook.EndpointDisabledType+`"`) || ev.Data.EndpointID != e.ID || ev.TenantID != "acme" {
		t.Errorf("watcher got %s", body)
	}
	n := len(failing.received())
	if n < 2 {
		t.Errorf("the failing endpoint was tried %d times: disabling takes a first failure and one DisableAfter later", n)
	}

	// The gauge behind the WebhookEndpointsDisabled alert tells this
	// endpoint from the two its tenant disabled.
	disabled := webhook.StatusDisabled
	for range 2 {
		other := h.register(t, "acme", watcher.URL, notification.InvoicePaid)
		if _, err := h.wh.Update(context.Background(), "acme", other.ID, webhook.Patch{Status: &disabled}); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := h.q.WebhookEndpointCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"enabled": 1, "disabled_by_tenant": 2, "disabled_by_service": 1}; !maps.Equal(counts, want) {
		t.Errorf("WebhookEndpointCounts = %v, want %v", counts, want)
	}
}
