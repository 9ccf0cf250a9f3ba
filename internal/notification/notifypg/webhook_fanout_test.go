package notifypg_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// largestEvent is the largest event body invoicing publishes (its relay
// bounds every event to 384 KiB).
const largestEvent = 384 << 10

// bigEvent returns a CloudEvent of tenant of at most size bytes, its bulk
// random text, which PostgreSQL cannot compress.
func bigEvent(t testing.TB, tenant string, size int) notification.Event {
	t.Helper()
	filler := make([]byte, (size-300)*3/4) // base64 makes 4 bytes of 3; 300 for the rest
	_, _ = rand.Read(filler)
	raw := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":%q,"subject":"inv_1","time":%q,"tenantid":%q,"data":{"note":%q}}`,
		uuid.Must(uuid.NewV7()).String(), notification.InvoiceIssued, time.Now().UTC().Format(time.RFC3339Nano), tenant,
		base64.StdEncoding.EncodeToString(filler))
	ev, err := notification.DecodeEvent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// webhookBytes returns the bytes the webhook tables take on disk, indexes
// and TOAST included.
func webhookBytes(t testing.TB, pool *pgxpool.Pool) int64 {
	t.Helper()
	var n int64
	err := pool.QueryRow(context.Background(), `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE s.nspname = 'notification' AND c.relkind = 'r' AND c.relname LIKE 'webhook%'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWebhookFanOutStoresTheBodyOnce: an event to many endpoints stores its
// body once, not once per delivery.
func TestWebhookFanOutStoresTheBodyOnce(t *testing.T) {
	const endpoints = 50
	h := newHarness(t, notifypg.WebhookConfig{MaxEndpoints: endpoints})
	if err := h.q.Stop(context.Background()); err != nil { // the stored deliveries are what is measured
		t.Fatal(err)
	}
	for i := range endpoints {
		h.register(t, "acme", fmt.Sprintf("http://127.0.0.1:9/%d", i), "*")
	}
	ev := bigEvent(t, "acme", largestEvent)
	before := webhookBytes(t, h.pool)
	h.publish(t, ev)
	var n int
	if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM notification.webhook_deliveries`).Scan(&n); err != nil || n != endpoints {
		t.Fatalf("%d deliveries (%v), want %d", n, err, endpoints)
	}
	if grew := webhookBytes(t, h.pool) - before; grew > 2*int64(len(ev.Raw)) {
		t.Errorf("one event of %d bytes to %d endpoints grew the webhook tables by %d bytes (%.1f bodies), want about one body",
			len(ev.Raw), endpoints, grew, float64(grew)/float64(len(ev.Raw)))
	}
}
