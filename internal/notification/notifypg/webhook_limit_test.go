package notifypg_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// TestWebhookEndpointLimitHoldsUnderConcurrentRegistrations registers far
// more endpoints than a tenant may have, all at once: exactly the limit
// are created, the rest refused with a *webhook.LimitError; other tenants
// are not counted; deleting one makes room for one.
func TestWebhookEndpointLimitHoldsUnderConcurrentRegistrations(t *testing.T) {
	const limit, tries = 5, 30
	h := newHarness(t, notifypg.WebhookConfig{MaxEndpoints: limit})
	ctx := context.Background()
	h.register(t, "globex", "http://127.0.0.1:9/globex", "*")
	var wg sync.WaitGroup
	errs := make([]error, tries)
	for i := range tries {
		wg.Go(func() {
			_, errs[i] = h.wh.Create(ctx, "acme", webhook.NewEndpoint{URL: fmt.Sprintf("http://127.0.0.1:9/%d", i), EnabledEvents: []string{"*"}})
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		var le *webhook.LimitError
		switch {
		case err == nil:
			created++
		case errors.As(err, &le) && le.Max == limit:
		default:
			t.Errorf("registration failed with %v, want a *webhook.LimitError of %d", err, limit)
		}
	}
	if created != limit {
		t.Fatalf("%d of %d concurrent registrations succeeded, want the limit, %d", created, tries, limit)
	}
	es, _, err := h.wh.List(ctx, "acme", webhook.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != limit {
		t.Fatalf("tenant acme has %d endpoints, want %d", len(es), limit)
	}
	h.register(t, "globex", "http://127.0.0.1:9/globex2", "*")
	if err := h.wh.Delete(ctx, "acme", es[0].ID); err != nil {
		t.Fatal(err)
	}
	h.register(t, "acme", "http://127.0.0.1:9/again", "*")
}
