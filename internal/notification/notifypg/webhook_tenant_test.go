package notifypg_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// TestWebhookTenantsSlowEndpointsLeaveOtherTenantsWorkers gives tenant A
// every endpoint it may register, all hanging and subscribed to every
// event, and a backlog of deliveries; tenant B's delivery must still leave
// while A's attempts hang, with A holding no more than its share of the
// workers. The sender's timeout outlasts the wait: B's delivery cannot
// leave by A's attempts giving up.
func TestWebhookTenantsSlowEndpointsLeaveOtherTenantsWorkers(t *testing.T) {
	const workers, perTenant, endpoints, events = 8, 3, 16, 20
	timeout := 60 * time.Second
	h := newHarness(t, notifypg.WebhookConfig{
		Workers: workers, PerTenant: perTenant,
		Sender: webhook.NewSender(webhook.SenderConfig{Timeout: timeout, Policy: webhook.Policy{AllowPrivate: true}}),
	})
	hang := newHangingReceiver(t)
	for i := range endpoints {
		h.register(t, "acme", fmt.Sprintf("%s/%d", hang.URL, i), "*")
	}
	b := newReceiver(t)
	h.register(t, "globex", b.URL, "*")

	var evs []notification.Event
	for range events {
		evs = append(evs, event(t, "acme", notification.InvoicePaid, time.Now()))
	}
	h.publish(t, evs...)
	waitFor(t, "tenant acme's attempts holding its share of the workers", func() bool {
		arrived, _, _ := hang.counts()
		return arrived >= perTenant
	})
	sent := time.Now()
	h.publish(t, event(t, "globex", notification.InvoicePaid, time.Now()))

	// Generous (the machine is shared), and well short of the sender's
	// timeout.
	for deadline := time.Now().Add(30 * time.Second); len(b.received()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			arrived, ended, held := hang.counts()
			t.Fatalf("after 30s tenant globex's delivery has not left; tenant acme's hanging endpoints hold %d attempts (%d arrived, %d ended, at most %d at once) of %d workers",
				arrived-ended, arrived, ended, held, workers)
		}
	}
	t.Logf("globex's delivery left %s after its event reached the inbox", b.received()[0].at.Sub(sent).Round(time.Millisecond))
	arrived, ended, held := hang.counts()
	if ended != 0 {
		t.Errorf("%d of tenant acme's attempts ended before globex's delivery left: it waited for them", ended)
	}
	if held > perTenant {
		t.Errorf("tenant acme's endpoints held %d attempts at once (%d arrived), want at most PerTenant %d", held, arrived, perTenant)
	}
}

// TestWebhookTenantsBurstDoesNotStandBeforeAnotherTenant stores a burst of
// one tenant's deliveries (its 16 endpoints, hanging, times 100 events),
// then another tenant's one: that one must leave while most of the burst
// has not yet been picked up even once, rather than after every task of
// the burst has been fetched and deferred in turn.
func TestWebhookTenantsBurstDoesNotStandBeforeAnotherTenant(t *testing.T) {
	const endpoints, events = 16, 100
	h := newHarness(t, notifypg.WebhookConfig{
		Workers: 4, PerTenant: 2,
		Sender: webhook.NewSender(webhook.SenderConfig{Timeout: time.Minute, Policy: webhook.Policy{AllowPrivate: true}}),
	})
	hang := newHangingReceiver(t)
	for i := range endpoints {
		h.register(t, "acme", fmt.Sprintf("%s/%d", hang.URL, i), "*")
	}
	b := newReceiver(t)
	h.register(t, "globex", b.URL, "*")
	var evs []notification.Event
	for range events {
		evs = append(evs, event(t, "acme", notification.InvoicePaid, time.Now()))
	}
	h.publish(t, evs...)
	h.publish(t, event(t, "globex", notification.InvoicePaid, time.Now()))
	waitFor(t, "tenant globex's delivery", func() bool { return len(b.received()) == 1 })
	var untouched, all int
	if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE attempted_at IS NULL), count(*)
		FROM notification.river_job WHERE kind = 'notification.webhook'`).Scan(&untouched, &all); err != nil {
		t.Fatal(err)
	}
	if untouched < all/2 {
		t.Errorf("when tenant globex's delivery left, %d of the %d tasks had never run: it waited for the burst to be fetched", untouched, all)
	}
}
