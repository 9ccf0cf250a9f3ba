package notifyhttp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/apitest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/notifyhttp"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// stubResolver answers lookups from its map, so that tests can name hosts
// that resolve to addresses they must never connect to.
type stubResolver map[string][]netip.Addr

func (s stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := s[host]; ok {
		return ips, nil
	}
	return nil, fmt.Errorf("no such host %q", host)
}

// private lets endpoints be registered at loopback addresses, where the
// tests' receivers listen.
var private = webhook.Policy{AllowPrivate: true}

// webhookAPI is the API as main composes it, the webhook routes on the
// invoicing API's /v1 with its API keys, on one database for both
// contexts, and the notification queue behind them.
type webhookAPI struct {
	*api
	queue *notifypg.Queue
}

// newWebhookAPI serves the API with the webhook use cases on policy and a
// queue of cfg.
func newWebhookAPI(t *testing.T, policy webhook.Policy, cfg notifypg.WebhookConfig) *webhookAPI {
	t.Helper()
	ctx := context.Background()
	dbURL := pgtest.NewURL(t)
	if err := notifypg.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	pool, err := invoicingpg.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Webhooks: cfg}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	store := q.Webhooks()
	webhooks := app.New(store, store, policy)
	c := serve(t, pool, func(h *invoicinghttp.API) { notifyhttp.New(webhooks, h.Host()).Routes(h.V1()) })
	return &webhookAPI{api: c, queue: q}
}

type endpointJSON struct {
	ID                      string   `json:"id"`
	URL                     string   `json:"url"`
	Description             string   `json:"description"`
	EnabledEvents           []string `json:"enabled_events"`
	Status                  string   `json:"status"`
	DisabledReason          *string  `json:"disabled_reason"`
	Secret                  string   `json:"secret"`
	PreviousSecretExpiresAt *string  `json:"previous_secret_expires_at"`
}

func decodeAs[T any](t *testing.T, res response, status int) T {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d: %s", res.status, status, res.body)
	}
	var v T
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("decode %s: %v", res.body, err)
	}
	return v
}

func (c *webhookAPI) register(t *testing.T, key, url string, events ...string) endpointJSON {
	t.Helper()
	return decodeAs[endpointJSON](t, c.do(t, "POST", "/v1/webhook_endpoints", key,
		map[string]any{"url": url, "enabled_events": events, "description": "test"}), http.StatusCreated)
}

func TestWebhookEndpointCRUD(t *testing.T) {
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{})
	e := c.register(t, c.keyA, "http://127.0.0.1:9/hook", "invoicing.invoice.paid")
	if e.Status != "enabled" || e.URL != "http://127.0.0.1:9/hook" {
		t.Errorf("created %+v", e)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(e.Secret, "whsec_"))
	if !strings.HasPrefix(e.Secret, "whsec_") || err != nil || len(key) < 24 || len(key) > 64 {
		t.Errorf("secret %q is not whsec_ and base64 of 24 to 64 bytes", e.Secret)
	}
	got := decodeAs[endpointJSON](t, c.do(t, "GET", "/v1/webhook_endpoints/"+e.ID, c.keyA, nil), http.StatusOK)
	if got.Secret != "" {
		t.Error("GET shows the secret")
	}
	patched := decodeAs[endpointJSON](t, c.do(t, "PATCH", "/v1/webhook_endpoints/"+e.ID, c.keyA,
		map[string]any{"enabled_events": []string{"*"}, "status": "disabled"}), http.StatusOK)
	if patched.Status != "disabled" || len(patched.EnabledEvents) != 1 || patched.EnabledEvents[0] != "*" || patched.URL != e.URL {
		t.Errorf("patched %+v", patched)
	}
	if res := c.do(t, "POST", "/v1/webhook_endpoints/"+e.ID+"/replay", c.keyA, map[string]any{"since": "2026-01-01T00:00:00Z"}); res.status != http.StatusConflict {
		t.Errorf("replay to a disabled endpoint: %d %s, want 409", res.status, res.body)
	}
	rotated := decodeAs[endpointJSON](t, c.do(t, "POST", "/v1/webhook_endpoints/"+e.ID+"/rotate_secret", c.keyA, nil), http.StatusOK)
	if rotated.Secret == "" || rotated.Secret == e.Secret || rotated.PreviousSecretExpiresAt == nil {
		t.Errorf("rotated %+v, want a new secret and the old one's expiry", rotated)
	}
	if res := c.do(t, "DELETE", "/v1/webhook_endpoints/"+e.ID, c.keyA, nil); res.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if res := c.do(t, "GET", "/v1/webhook_endpoints/"+e.ID, c.keyA, nil); res.status != http.StatusNotFound {
		t.Errorf("after delete: %d %s", res.status, res.body)
	}
}

func TestWebhookEndpointListPages(t *testing.T) {
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{})
	var ids []string
	for i := range 5 {
		ids = append(ids, c.register(t, c.keyA, fmt.Sprintf("http://127.0.0.1:9/%d", i), "*").ID)
	}
	type list struct {
		Data    []endpointJSON `json:"data"`
		HasMore bool           `json:"has_more"`
	}
	var seen []string
	after := ""
	for range 3 {
		l := decodeAs[list](t, c.do(t, "GET", "/v1/webhook_endpoints?limit=2"+after, c.keyA, nil), http.StatusOK)
		for _, e := range l.Data {
			seen = append(seen, e.ID)
			if e.Secret != "" {
				t.Error("a list shows a secret")
			}
		}
		if !l.HasMore {
			break
		}
		after = "&starting_after=" + l.Data[len(l.Data)-1].ID
	}
	if fmt.Sprint(seen) != fmt.Sprint([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}) {
		t.Errorf("pages gave %v, want newest first %v", seen, ids)
	}
	if res := c.do(t, "GET", "/v1/webhook_endpoints?limit=0", c.keyA, nil); res.status != http.StatusUnprocessableEntity {
		t.Errorf("limit=0: %d", res.status)
	}
	if res := c.do(t, "GET", "/v1/webhook_endpoints?starting_after=nope", c.keyA, nil); res.status != http.StatusUnprocessableEntity {
		t.Errorf("starting_after=nope: %d", res.status)
	}
}

func TestWebhookEndpointsOfAnotherTenant404(t *testing.T) {
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{})
	e := c.register(t, c.keyA, "http://127.0.0.1:9/a", "*")
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/webhook_endpoints/" + e.ID, nil},
		{"PATCH", "/v1/webhook_endpoints/" + e.ID, map[string]any{"url": "http://127.0.0.1:9/stolen"}},
		{"DELETE", "/v1/webhook_endpoints/" + e.ID, nil},
		{"POST", "/v1/webhook_endpoints/" + e.ID + "/rotate_secret", nil},
		{"GET", "/v1/webhook_endpoints/" + e.ID + "/deliveries", nil},
		{"POST", "/v1/webhook_endpoints/" + e.ID + "/deliveries/" + uuid.NewString() + "/retry", nil},
		{"POST", "/v1/webhook_endpoints/" + e.ID + "/replay", map[string]any{"since": "2026-01-01T00:00:00Z"}},
	} {
		if res := c.do(t, req.method, req.path, c.keyB, req.body); res.status != http.StatusNotFound {
			t.Errorf("tenant B: %s %s: %d %s, want 404", req.method, req.path, res.status, res.body)
		}
	}
	if res := c.do(t, "GET", "/v1/webhook_endpoints", c.keyB, nil); string(res.body) != emptyList {
		t.Errorf("tenant B's list: %s", res.body)
	}
	got := decodeAs[endpointJSON](t, c.do(t, "GET", "/v1/webhook_endpoints/"+e.ID, c.keyA, nil), http.StatusOK)
	if got.URL != e.URL || got.Status != "enabled" {
		t.Errorf("tenant A's endpoint after B's attempts: %+v", got)
	}
}

func TestWebhookEndpointCreate422(t *testing.T) {
	// The checks are on: only the stub's hosts resolve, and nothing here
	// is ever connected to.
	c := newWebhookAPI(t, webhook.Policy{Resolver: stubResolver{
		"internal.example": {netip.MustParseAddr("10.1.2.3")},
		"mixed.example":    {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("192.168.0.1")},
		"meta.example":     {netip.MustParseAddr("169.254.169.254")},
		"nat64.example":    {netip.MustParseAddr("64:ff9b::a9fe:a9fe")},
		"public.example":   {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:4860:4860::8888")},
	}}, notifypg.WebhookConfig{})
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"http loopback", map[string]any{"url": "http://127.0.0.1/hook", "enabled_events": []string{"*"}}, "url"},
		{"https loopback", map[string]any{"url": "https://127.0.0.1/hook", "enabled_events": []string{"*"}}, "url"},
		{"metadata", map[string]any{"url": "http://169.254.169.254/latest/meta-data", "enabled_events": []string{"*"}}, "url"},
		{"https metadata", map[string]any{"url": "https://169.254.169.254/", "enabled_events": []string{"*"}}, "url"},
		{"ipv6 loopback", map[string]any{"url": "http://[::1]/hook", "enabled_events": []string{"*"}}, "url"},
		{"https ipv6 loopback", map[string]any{"url": "https://[::1]/hook", "enabled_events": []string{"*"}}, "url"},
		{"host resolving to 10.x", map[string]any{"url": "https://internal.example/hook", "enabled_events": []string{"*"}}, "url"},
		{"host resolving partly private", map[string]any{"url": "https://mixed.example/hook", "enabled_events": []string{"*"}}, "url"},
		{"host resolving to metadata", map[string]any{"url": "https://meta.example/hook", "enabled_events": []string{"*"}}, "url"},
		{"host resolving to NAT64 of metadata", map[string]any{"url": "https://nat64.example/hook", "enabled_events": []string{"*"}}, "url"},
		// IPv6 forms that embed a refused IPv4 address, and special-purpose IPv6.
		{"NAT64 of metadata", map[string]any{"url": "https://[64:ff9b::a9fe:a9fe]/hook", "enabled_events": []string{"*"}}, "url"},
		{"NAT64 of 10.0.0.1", map[string]any{"url": "https://[64:ff9b::a00:1]/hook", "enabled_events": []string{"*"}}, "url"},
		{"IPv4-compatible loopback", map[string]any{"url": "https://[::127.0.0.1]/hook", "enabled_events": []string{"*"}}, "url"},
		{"IPv4-translated loopback", map[string]any{"url": "https://[::ffff:0:7f00:1]/hook", "enabled_events": []string{"*"}}, "url"},
		{"6to4 of loopback", map[string]any{"url": "https://[2002:7f00:1::]/hook", "enabled_events": []string{"*"}}, "url"},
		{"Teredo", map[string]any{"url": "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", "enabled_events": []string{"*"}}, "url"},
		{"discard-only", map[string]any{"url": "https://[100::1]/hook", "enabled_events": []string{"*"}}, "url"},
		{"IPv6 documentation", map[string]any{"url": "https://[2001:db8::1]/hook", "enabled_events": []string{"*"}}, "url"},
		{"site-local", map[string]any{"url": "https://[fec0::1]/hook", "enabled_events": []string{"*"}}, "url"},
		{"IPv4 documentation", map[string]any{"url": "https://203.0.113.7/hook", "enabled_events": []string{"*"}}, "url"},
		{"localhost", map[string]any{"url": "https://localhost/hook", "enabled_events": []string{"*"}}, "url"},
		{"not resolving", map[string]any{"url": "https://nowhere.example/hook", "enabled_events": []string{"*"}}, "url"},
		{"plain http", map[string]any{"url": "http://public.example/hook", "enabled_events": []string{"*"}}, "url"},
		{"credentials", map[string]any{"url": "https://u:p@public.example/hook", "enabled_events": []string{"*"}}, "url"},
		{"no url", map[string]any{"enabled_events": []string{"*"}}, "url"},
		{"no events", map[string]any{"url": "https://public.example/hook"}, "enabled_events"},
		{"bad event type", map[string]any{"url": "https://public.example/hook", "enabled_events": []string{"paid"}}, "enabled_events[0]"},
		// Well formed, but no event of this service: the endpoint would
		// wait for ever for events that never come.
		{"unknown event type", map[string]any{"url": "https://public.example/hook", "enabled_events": []string{"invoicing.invoice.paid", "invoicing.invoice.payed"}}, "enabled_events[1]"},
		{"credit note type misspelt", map[string]any{"url": "https://public.example/hook", "enabled_events": []string{"invoicing.creditnote.issued"}}, "enabled_events[0]"},
		{"long description", map[string]any{"url": "https://public.example/hook", "enabled_events": []string{"*"}, "description": strings.Repeat("x", 501)}, "description"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.invalid().do(t, "POST", "/v1/webhook_endpoints", c.keyA, tc.body)
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", res.status, res.body)
			}
			var p struct {
				Type   string `json:"type"`
				Errors []struct {
					Field string `json:"field"`
				} `json:"errors"`
			}
			_ = json.Unmarshal(res.body, &p)
			if p.Type != "urn:invoicing:problem:invalid_webhook_endpoint" || len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
				t.Errorf("problem %s, want invalid_webhook_endpoint naming %s", res.body, tc.field)
			}
		})
	}
	if res := c.do(t, "GET", "/v1/webhook_endpoints", c.keyA, nil); string(res.body) != emptyList {
		t.Errorf("after the refusals the list is %s, want empty", res.body)
	}
	// A name resolving to public addresses, and a public address, are
	// accepted (registration resolves with the stub; this queue has no
	// Sender and connects to nothing).
	c.register(t, c.keyA, "https://public.example/hook", "*")
	c.register(t, c.keyA, "https://[2606:4700:4700::1111]/hook", "*")
	// Every type the service sends can be subscribed to, the newer ones too.
	e := c.register(t, c.keyA, "https://public.example/hook", webhook.EventTypes...)
	if res := c.invalid().do(t, "PATCH", "/v1/webhook_endpoints/"+e.ID, c.keyA,
		map[string]any{"enabled_events": []string{"invoicing.invoice.overdue", "invoicing.invoice.write_off"}}); res.status != http.StatusUnprocessableEntity {
		t.Errorf("PATCH to an unknown event type: %d %s, want 422", res.status, res.body)
	}
}

// TestWebhookDeliveriesAPI drives deliveries through the inbox to a
// receiver and reads them back, retries one and replays.
func TestWebhookDeliveriesAPI(t *testing.T) {
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{
		Sender:   webhook.NewSender(webhook.SenderConfig{Timeout: 5 * time.Second, Policy: webhook.Policy{AllowPrivate: true}}),
		Schedule: webhook.Schedule{10 * time.Millisecond},
	})
	var fail atomic.Bool
	fail.Store(true)
	got := make(chan string, 100)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got <- r.Header.Get("webhook-id")
		if fail.Load() {
			http.Error(w, "receiver down", http.StatusInternalServerError)
		}
	}))
	defer rcv.Close()
	e := c.register(t, c.keyA, rcv.URL, "*")
	tenantA := c.tenantOf(t, c.keyA)
	id := uuid.Must(uuid.NewV7()).String()
	ev, err := notification.DecodeEvent(fmt.Appendf(nil, `{"id":%q,"type":"invoicing.invoice.paid","tenantid":%q,"time":"2026-06-30T10:00:00Z","data":{}}`, id, tenantA))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.queue.WebhookInbox("webhooks").Handle(context.Background(), []notification.Event{ev}); err != nil {
		t.Fatal(err)
	}
	type deliveries struct {
		Data []struct {
			ID       string `json:"id"`
			EventID  string `json:"event_id"`
			Status   string `json:"status"`
			Attempts []struct {
				StatusCode *int    `json:"status_code"`
				Error      *string `json:"error"`
			} `json:"attempts"`
		} `json:"data"`
	}
	var ds deliveries
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ds = decodeAs[deliveries](t, c.do(t, "GET", "/v1/webhook_endpoints/"+e.ID+"/deliveries?status=failed", c.keyA, nil), http.StatusOK)
		if len(ds.Data) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no failed delivery after 60s")
		}
	}
	d := ds.Data[0]
	if d.EventID != id || len(d.Attempts) != 2 || *d.Attempts[0].StatusCode != 500 || !strings.Contains(*d.Attempts[0].Error, "receiver down") {
		t.Errorf("delivery %+v", d)
	}
	fail.Store(false)
	if res := c.do(t, "POST", "/v1/webhook_endpoints/"+e.ID+"/deliveries/"+d.ID+"/retry", c.keyA, nil); res.status != http.StatusAccepted {
		t.Fatalf("retry: %d %s", res.status, res.body)
	}
	for range 3 {
		if w := <-got; w != id {
			t.Errorf("webhook-id %q, want %q", w, id)
		}
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ds = decodeAs[deliveries](t, c.do(t, "GET", "/v1/webhook_endpoints/"+e.ID+"/deliveries?status=succeeded", c.keyA, nil), http.StatusOK)
		if len(ds.Data) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the retried delivery did not succeed in 60s")
		}
	}
	replay := decodeAs[struct {
		Queued  int
		HasMore bool `json:"has_more"`
	}](t, c.do(t, "POST", "/v1/webhook_endpoints/"+e.ID+"/replay", c.keyA, map[string]any{"since": "2026-06-30T09:00:00Z"}), http.StatusAccepted)
	if replay.Queued != 1 || replay.HasMore {
		t.Errorf("replay queued %d, more: %t; want 1 and no more", replay.Queued, replay.HasMore)
	}
	if w := <-got; w != id {
		t.Errorf("replayed webhook-id %q, want %q", w, id)
	}
	if res := c.do(t, "POST", "/v1/webhook_endpoints/"+e.ID+"/deliveries/"+uuid.NewString()+"/retry", c.keyA, nil); res.status != http.StatusNotFound ||
		!strings.Contains(string(res.body), "webhook_delivery_not_found") {
		t.Errorf("retry of an unknown delivery: %d %s", res.status, res.body)
	}
	if res := c.invalid().do(t, "GET", "/v1/webhook_endpoints/"+e.ID+"/deliveries?status=lost", c.keyA, nil); res.status != http.StatusUnprocessableEntity {
		t.Errorf("status=lost: %d", res.status)
	}
}

// TestWebhookTextWithNUL422 sends U+0000 in every text member of the webhook
// API: each is a 422 naming the member, and nothing is stored.
func TestWebhookTextWithNUL422(t *testing.T) {
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{})
	e := c.register(t, c.keyA, "http://127.0.0.1:9/hook", "invoicing.invoice.paid")
	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
		field              string
	}{
		{"create description", "POST", "/v1/webhook_endpoints", map[string]any{"url": "http://127.0.0.1:9/x", "enabled_events": []string{"*"}, "description": "a\x00b"}, "description"},
		{"create description control", "POST", "/v1/webhook_endpoints", map[string]any{"url": "http://127.0.0.1:9/x", "enabled_events": []string{"*"}, "description": "a\x1bb"}, "description"},
		{"create url", "POST", "/v1/webhook_endpoints", map[string]any{"url": "http://127.0.0.1:9/x\x00", "enabled_events": []string{"*"}}, "url"},
		{"create event", "POST", "/v1/webhook_endpoints", map[string]any{"url": "http://127.0.0.1:9/x", "enabled_events": []string{"invoicing.invoice.paid\x00"}}, "enabled_events[0]"},
		{"patch description", "PATCH", "/v1/webhook_endpoints/" + e.ID, map[string]any{"description": "\x00"}, "description"},
		{"patch url", "PATCH", "/v1/webhook_endpoints/" + e.ID, map[string]any{"url": "http://127.0.0.1:9/\x00"}, "url"},
		{"patch event", "PATCH", "/v1/webhook_endpoints/" + e.ID, map[string]any{"enabled_events": []string{"*\x00"}}, "enabled_events[0]"},
		{"patch status", "PATCH", "/v1/webhook_endpoints/" + e.ID, map[string]any{"status": "enabled\x00"}, "status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.invalid().do(t, tc.method, tc.path, c.keyA, tc.body)
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", res.status, res.body)
			}
			var p apitest.Problem
			_ = json.Unmarshal(res.body, &p)
			if !p.HasField(tc.field) {
				t.Errorf("problem %s does not name %s", res.body, tc.field)
			}
		})
	}
	type list struct {
		Data []endpointJSON `json:"data"`
	}
	l := decodeAs[list](t, c.do(t, "GET", "/v1/webhook_endpoints", c.keyA, nil), http.StatusOK)
	if len(l.Data) != 1 || l.Data[0].Description != "test" || l.Data[0].URL != e.URL || fmt.Sprint(l.Data[0].EnabledEvents) != "[invoicing.invoice.paid]" {
		t.Errorf("after the refusals the endpoints are %+v, want only %+v unchanged", l.Data, e)
	}
}

// TestWebhookSecondRotationWithinOverlap409 rotates a secret, then again
// while the first one still signs: the second rotation is refused with the
// time the first secret stops signing, and both secrets stay as they were.
// Once that time has passed, rotating works again; of rotations racing on a
// fresh endpoint, one wins.
func TestWebhookSecondRotationWithinOverlap409(t *testing.T) {
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{SecretOverlap: time.Hour})
	e := c.register(t, c.keyA, "http://127.0.0.1:9/hook", "*")
	rotate := "/v1/webhook_endpoints/" + e.ID + "/rotate_secret"
	first := decodeAs[endpointJSON](t, c.do(t, "POST", rotate, c.keyA, nil), http.StatusOK)
	p := wantProblem(t, c.do(t, "POST", rotate, c.keyA, nil), http.StatusConflict, "webhook_conflict", "")
	if first.PreviousSecretExpiresAt == nil || !strings.Contains(p.Detail, *first.PreviousSecretExpiresAt) {
		t.Errorf("second rotation: %q, want the time the old secret stops signing (%v)", p.Detail, first.PreviousSecretExpiresAt)
	}
	secrets := func() (current, previous string) {
		t.Helper()
		if err := c.pool.QueryRow(t.Context(), `SELECT secret, previous_secret FROM notification.webhook_endpoints WHERE id = $1`,
			e.ID).Scan(&current, &previous); err != nil {
			t.Fatal(err)
		}
		return current, previous
	}
	if cur, prev := secrets(); cur != first.Secret || prev != e.Secret {
		t.Errorf("after the refused rotation the secrets are %q and %q, want %q and %q (still signing)", cur, prev, first.Secret, e.Secret)
	}
	got := decodeAs[endpointJSON](t, c.do(t, "GET", "/v1/webhook_endpoints/"+e.ID, c.keyA, nil), http.StatusOK)
	if got.PreviousSecretExpiresAt == nil || *got.PreviousSecretExpiresAt != *first.PreviousSecretExpiresAt {
		t.Errorf("previous_secret_expires_at %v, want %v", got.PreviousSecretExpiresAt, *first.PreviousSecretExpiresAt)
	}

	// The overlap ends (moved to the past rather than waited for).
	if _, err := c.pool.Exec(t.Context(), `UPDATE notification.webhook_endpoints SET previous_until = now() - interval '1 second' WHERE id = $1`, e.ID); err != nil {
		t.Fatal(err)
	}
	third := decodeAs[endpointJSON](t, c.do(t, "POST", rotate, c.keyA, nil), http.StatusOK)
	if cur, prev := secrets(); cur != third.Secret || prev != first.Secret {
		t.Errorf("after the overlap a rotation gave secrets %q and %q, want %q and %q", cur, prev, third.Secret, first.Secret)
	}

	fresh := c.register(t, c.keyA, "http://127.0.0.1:9/other", "*")
	const racers = 8
	statuses := make(chan int, racers)
	for range racers {
		go func() {
			res, err := c.try("POST", "/v1/webhook_endpoints/"+fresh.ID+"/rotate_secret", c.keyA, nil)
			if err != nil {
				t.Error(err)
			}
			statuses <- res.status
		}()
	}
	won := 0
	for range racers {
		switch s := <-statuses; s {
		case http.StatusOK:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("a racing rotation answered %d", s)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d racing rotations succeeded, want 1", won, racers)
	}
}

// TestWebhookReplaySinceNotATime422 sends a since that is no RFC 3339
// time: the problem names since and the format, and nothing is queued.
func TestWebhookReplaySinceNotATime422(t *testing.T) {
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{})
	e := c.register(t, c.keyA, "http://127.0.0.1:9/hook", "*")
	for _, since := range []string{"yesterday", "2026-01-01", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00Z\x00", ""} {
		t.Run(since, func(t *testing.T) {
			p := wantProblem(t, c.invalid().do(t, "POST", "/v1/webhook_endpoints/"+e.ID+"/replay", c.keyA, map[string]any{"since": since}),
				http.StatusUnprocessableEntity, "invalid_replay", "since")
			if !strings.Contains(p.Detail, "RFC 3339") {
				t.Errorf("detail %q does not say the format", p.Detail)
			}
		})
	}
}

// TestWebhookListsRefuseAForeignCursor422 pages the endpoint and delivery
// lists, and a replay, after ids that are well formed but not of the list:
// each is the invalid_cursor the other lists answer, not an empty page.
func TestWebhookListsRefuseAForeignCursor422(t *testing.T) {
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{})
	e := c.register(t, c.keyA, "http://127.0.0.1:9/hook", "*")
	other := c.register(t, c.keyB, "http://127.0.0.1:9/b", "*")
	for _, path := range []string{
		"/v1/webhook_endpoints?starting_after=" + uuid.NewString(),
		"/v1/webhook_endpoints?starting_after=" + other.ID, // tenant B's
		"/v1/webhook_endpoints/" + e.ID + "/deliveries?starting_after=" + uuid.NewString(),
		"/v1/webhook_endpoints/" + e.ID + "/deliveries?starting_after=" + e.ID, // an endpoint, not a delivery
		"/v1/webhook_endpoints/" + e.ID + "/deliveries?starting_after=nope",
	} {
		t.Run(path, func(t *testing.T) {
			wantProblem(t, c.do(t, "GET", path, c.keyA, nil), http.StatusUnprocessableEntity, "invalid_cursor", "starting_after")
		})
	}
	for _, cursor := range []string{uuid.NewString(), e.ID} {
		t.Run("replay after "+cursor, func(t *testing.T) {
			wantProblem(t, c.do(t, "POST", "/v1/webhook_endpoints/"+e.ID+"/replay", c.keyA,
				map[string]any{"since": "2026-01-01T00:00:00Z", "starting_after": cursor}),
				http.StatusUnprocessableEntity, "invalid_cursor", "starting_after")
		})
	}
}

// TestWebhookEndpointCreate409Limit registers endpoints up to the tenant's
// limit; the next is refused with a problem naming the limit, while
// another tenant still registers.
func TestWebhookEndpointCreate409Limit(t *testing.T) {
	c := newWebhookAPI(t, private, notifypg.WebhookConfig{MaxEndpoints: 2})
	c.register(t, c.keyA, "http://127.0.0.1:9/1", "*")
	c.register(t, c.keyA, "http://127.0.0.1:9/2", "*")
	res := c.do(t, "POST", "/v1/webhook_endpoints", c.keyA, map[string]any{"url": "http://127.0.0.1:9/3", "enabled_events": []string{"*"}})
	var p struct {
		Type   string `json:"type"`
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(res.body, &p)
	if res.status != http.StatusConflict || p.Type != "urn:invoicing:problem:webhook_endpoint_limit" || !strings.Contains(p.Detail, "2 webhook endpoints") {
		t.Errorf("a third endpoint with a limit of 2: %d %s, want 409 webhook_endpoint_limit naming the limit", res.status, res.body)
	}
	c.register(t, c.keyB, "http://127.0.0.1:9/b", "*")
}
