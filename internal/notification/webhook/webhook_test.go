package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/invoicing-dev/invoicing/api"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// TestSignMatchesTheSpecVector checks Sign against the example in the
// Standard Webhooks specification and its reference library's tests.
func TestSignMatchesTheSpecVector(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ts := time.Unix(1614265330, 0)
	got, err := webhook.Sign([]string{secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	lib, _ := standardwebhooks.NewWebhook(secret)
	if want, _ := lib.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, []byte(`{"test": 2432232314}`)); got != want {
		t.Errorf("signature %s, the library's %s", got, want)
	}
	if _, err := webhook.Sign([]string{"not-a-secret"}, "id", ts, nil); err == nil {
		t.Error("a secret without whsec_ signs")
	}
}

// stub resolves from its map only.
type stub map[string][]netip.Addr

func (s stub) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := s[host]; ok {
		return ips, nil
	}
	return nil, fmt.Errorf("no such host %q", host)
}

// TestSenderRefusesForbiddenAddressesAtConnect: a host registered while it
// resolved to a public address now resolves to a loopback one (DNS
// changed): the sender refuses before connecting, and the receiver
// listening there proves it (without the check it gets the request:
// checked by disabling it). Only loopback addresses are dialled here, so a
// broken check can never send a packet elsewhere; that the same check
// refuses every other form is addressForms' table.
func TestSenderRefusesForbiddenAddressesAtConnect(t *testing.T) {
	var hits atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer rcv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rcv.URL, "http://"))
	res := stub{
		"loopback.example": {netip.MustParseAddr("127.0.0.1")},
		"v4mapped.example": {netip.MustParseAddr("::ffff:127.0.0.1")},
	}
	s := webhook.NewSender(webhook.SenderConfig{Timeout: 5 * time.Second, Policy: webhook.Policy{Resolver: res}})
	for host := range res {
		r, err := s.Send(context.Background(), webhook.Message{URL: "http://" + net.JoinHostPort(host, port) + "/", ID: "m1", Body: []byte("{}"), Secrets: []string{webhook.NewSecret()}})
		if err != nil {
			t.Fatal(err)
		}
		if r.OK() || !strings.Contains(r.Error, "refused") {
			t.Errorf("%s: %+v, want refused", host, r)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback receiver got %d requests through forbidden hosts", n)
	}
	// The same sender with the checks lifted reaches it: the refusal above
	// was the check's.
	open := webhook.NewSender(webhook.SenderConfig{Timeout: 5 * time.Second, Policy: webhook.Policy{Resolver: res, AllowPrivate: true}})
	r, err := open.Send(context.Background(), webhook.Message{URL: "http://" + net.JoinHostPort("loopback.example", port) + "/", ID: "m1", Body: []byte("{}"), Secrets: []string{webhook.NewSecret()}})
	if err != nil || !r.OK() || hits.Load() != 1 {
		t.Errorf("with WEBHOOK_ALLOW_PRIVATE_URLS: %+v %v, hits %d", r, err, hits.Load())
	}
}

func TestSenderFollowsNoRedirectAndReadsLittle(t *testing.T) {
	var elsewhere atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(strings.Repeat("x", 1<<20)))
	}))
	defer big.Close()
	s := webhook.NewSender(webhook.SenderConfig{Timeout: 5 * time.Second, Policy: webhook.Policy{AllowPrivate: true}})
	msg := webhook.Message{ID: "m", Body: []byte("{}"), Secrets: []string{webhook.NewSecret()}}
	msg.URL = redirect.URL
	r, _ := s.Send(context.Background(), msg)
	if r.StatusCode != http.StatusTemporaryRedirect || r.OK() || elsewhere.Load() != 0 {
		t.Errorf("redirect: %+v, %d requests elsewhere; want the 307 as a failure, not followed", r, elsewhere.Load())
	}
	msg.URL = big.URL
	r, _ = s.Send(context.Background(), msg)
	if len(r.Error) > webhook.MaxResponseBody+100 {
		t.Errorf("kept %d bytes of the response", len(r.Error))
	}
}

func TestSenderTimesOut(t *testing.T) {
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // else the server does not notice the client leave
		<-r.Context().Done()
	}))
	defer stuck.Close()
	s := webhook.NewSender(webhook.SenderConfig{Timeout: 200 * time.Millisecond, Policy: webhook.Policy{AllowPrivate: true}})
	r, err := s.Send(context.Background(), webhook.Message{URL: stuck.URL, ID: "m", Body: []byte("{}"), Secrets: []string{webhook.NewSecret()}})
	if err != nil || r.OK() || r.StatusCode != 0 || r.Error == "" {
		t.Errorf("%+v %v, want a failed attempt without status", r, err)
	}
}

func TestSchedule(t *testing.T) {
	s, err := webhook.ParseSchedule("5s, 5m,30m")
	if err != nil || len(s) != 3 {
		t.Fatalf("%v %v", s, err)
	}
	for _, tc := range []struct {
		failed     int
		retryAfter time.Duration
		want       time.Duration
		ok         bool
	}{
		{1, 0, 5 * time.Second, true},
		{2, 0, 5 * time.Minute, true},
		{1, time.Minute, time.Minute, true},         // Retry-After longer than the schedule
		{1, 48 * time.Hour, 30 * time.Minute, true}, // capped at the longest wait
		{3, 0, 30 * time.Minute, true},
		{4, 0, 0, false},
	} {
		got, ok := s.Next(tc.failed, tc.retryAfter)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Next(%d, %s) = %s %t, want %s %t", tc.failed, tc.retryAfter, got, ok, tc.want, tc.ok)
		}
	}
	for _, bad := range []string{"", "5s,", "-1s", "soon"} {
		if _, err := webhook.ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", webhook.ErrForbiddenAddress), webhook.ErrForbiddenAddress) {
		t.Fatal("unreachable")
	}
}

// TestEventTypesAreThePublishedOnes keeps the types an endpoint may
// subscribe to equal to the channels of the published contract
// (api/asyncapi.yaml), with the endpoint_disabled event of this context:
// a type missing here could not be subscribed to, one too many would be
// an endpoint waiting for nothing.
func TestEventTypesAreThePublishedOnes(t *testing.T) {
	b, err := os.ReadFile("../../../api/asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{webhook.EndpointDisabledType}
	for _, m := range regexp.MustCompile(`(?m)^    address: (\S+)$`).FindAllSubmatch(b, -1) {
		want = append(want, string(m[1]))
	}
	if len(want) < 13 {
		t.Fatalf("found %d channels in asyncapi.yaml: %v", len(want)-1, want)
	}
	got := slices.Clone(webhook.EventTypes)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("EventTypes = %v\nwant the contract's channels and %s: %v", got, webhook.EndpointDisabledType, want)
	}
	if err := webhook.ValidateEvents(webhook.EventTypes); err != nil {
		t.Errorf("ValidateEvents(EventTypes) = %v", err)
	}
	for _, bad := range []string{"invoicing.invoice.payed", "invoicing.invoice", "invoicing.credit_note.voided", "*.paid"} {
		var ie *webhook.InvalidError
		if err := webhook.ValidateEvents([]string{bad}); !errors.As(err, &ie) || ie.Field != "enabled_events[0]" {
			t.Errorf("ValidateEvents([%q]) = %v, want an InvalidError naming enabled_events[0]", bad, err)
		}
	}
}

// TestEndpointDisabledEventMatchesTheWebhookSchema checks the event that
// tells a tenant of a disabled endpoint against what api/openapi.yaml says
// a webhook's body is: a receiver validating bodies by the document must
// take it, as it takes the invoicing events.
func TestEndpointDisabledEventMatchesTheWebhookSchema(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	hook := doc.Webhooks["invoicingEvent"]
	if hook == nil || hook.Post == nil || hook.Post.RequestBody == nil {
		t.Fatal("openapi.yaml has no webhooks.invoicingEvent.post.requestBody")
	}
	schema := hook.Post.RequestBody.Value.Content.Get("application/cloudevents+json").Schema.Value
	ev := webhook.EndpointDisabled("0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d31", "0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d32",
		"0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d30", "https://erp.acme.example/hooks", "410 Gone", time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC))
	var body any
	if err := json.Unmarshal(ev.Raw, &body); err != nil {
		t.Fatal(err)
	}
	if err := schema.VisitJSON(body, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%s does not match the webhook body's schema: %v", ev.Raw, err)
	}
	paid := `{"specversion":"1.0","id":"0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d33","source":"/invoicing","type":"invoicing.invoice.paid",` +
		`"subject":"0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d34","time":"2026-11-30T10:00:00Z","datacontenttype":"application/json",` +
		`"tenantid":"0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d32","sequence":"42","invoiceversion":4,"data":{}}`
	if err := json.Unmarshal([]byte(paid), &body); err != nil {
		t.Fatal(err)
	}
	if err := schema.VisitJSON(body, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("an invoicing event does not match the webhook body's schema: %v", err)
	}
}
