package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice/invoicetest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// largestInvoice returns the JSON body of the largest invoice the limits
// allow in cs.
func largestInvoice(cs invoicetest.Charset) string {
	type line struct {
		Description string `json:"description"`
		Quantity    int64  `json:"quantity"`
		UnitAmount  int64  `json:"unit_amount"`
		TaxRateBPS  int64  `json:"tax_rate_bps"`
	}
	lines := make([]line, 0, invoice.MaxLines)
	for _, l := range cs.Lines() {
		lines = append(lines, line{l.Description, l.Quantity, l.UnitAmount, l.TaxRateBPS})
	}
	customer := cs.Customer()
	return compactJSON(map[string]any{
		"customer": map[string]string{"name": customer.Name, "email": customer.Email},
		"currency": "EUR", "due_date": "2030-12-31", "lines": lines,
	})
}

// compactJSON returns v's JSON with no character escaped that JSON allows
// raw, as a client would send it at its smallest.
func compactJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	// encoding/json always escapes U+2028 and U+2029; JSON allows them raw.
	raw := strings.NewReplacer(`\u2028`, "\u2028", `\u2029`, "\u2029")
	return raw.Replace(strings.TrimSuffix(b.String(), "\n"))
}

// TestLargestInvoicesPublishEveryEvent creates, issues and pays the largest
// invoice the documented limits allow, once per invoicetest.Charset, through the
// real program and its relay, and expects all four events of each in the
// stream of an embedded NATS server with its default max_payload (1 MiB).
func TestLargestInvoicesPublishEveryEvent(t *testing.T) {
	ns := natstest.New(t)
	s := startServe(t, map[string]string{"NATS_URL": ns.URL(), "RELAY_POLL_INTERVAL": "100ms"})
	c := client{t: t, base: s.base, key: s.key}

	want := map[string]string{} // invoice id → charset
	for _, cs := range invoicetest.Charsets {
		body := largestInvoice(cs)
		if len(body) > 1<<20 {
			t.Fatalf("%s: request of %d bytes is over the 1 MiB body limit", cs.Name, len(body))
		}
		inv := c.call("POST", "/v1/invoices", body, 201)
		id := inv["id"].(string)
		issued := c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
		pay := compactJSON(map[string]any{"amount": issued["amount_due"], "reference": cs.Text(invoice.MaxReference)})
		c.call("POST", "/v1/invoices/"+id+"/payments", pay, 200)
		want[id] = cs.Name
		t.Logf("%s: request %d bytes", cs.Name, len(body))
	}

	wantTypes := []string{"invoicing.invoice.created", "invoicing.invoice.issued", "invoicing.invoice.payment_recorded", "invoicing.invoice.paid"}
	for deadline := time.Now().Add(30 * time.Second); ; {
		msgs := streamed(t, ns.URL())
		got := map[string][]string{} // invoice id → its event types in stream order
		for _, m := range msgs {
			got[m.Subject] = append(got[m.Subject], m.Type)
		}
		var missing []string
		for id, cs := range want {
			if strings.Join(got[id], ",") != strings.Join(wantTypes, ",") {
				missing = append(missing, fmt.Sprintf("%s: %v", cs, got[id]))
			}
		}
		if len(missing) == 0 {
			checkEventBodies(t, msgs)
			break
		}
		if time.Now().After(deadline) {
			sort.Strings(missing)
			t.Fatalf("after 30s, %d of %d invoices lack events in the stream (want %v each):\n%s\nserve's warnings:\n%s",
				len(missing), len(want), wantTypes, strings.Join(missing, "\n"), warnings(s.logs.String()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// streamedEvent is a message of the INVOICING stream, decoded.
type streamedEvent struct {
	Type, Subject string
	Data          struct {
		Lines     []json.RawMessage
		LineCount *int `json:"line_count"`
	}
	body []byte
}

// streamed returns every message in the INVOICING stream of the server at
// url, in stream order; none if the relay has not created the stream yet.
func streamed(t *testing.T, url string) []streamedEvent {
	t.Helper()
	ctx := context.Background()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, invoicingnats.DefaultStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []streamedEvent
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get message %d: %v", seq, err)
		}
		e := streamedEvent{body: m.Data}
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatalf("message %d is not JSON: %v", seq, err)
		}
		out = append(out, e)
	}
	return out
}

// checkEventBodies fails the test unless every created and issued event of
// msgs carries invoice.MaxEventLines lines of invoice.MaxLines, and no event
// escapes HTML.
func checkEventBodies(t *testing.T, msgs []streamedEvent) {
	t.Helper()
	largest := 0
	for _, m := range msgs {
		largest = max(largest, len(m.body))
		if m.Type == "invoicing.invoice.created" || m.Type == "invoicing.invoice.issued" {
			if len(m.Data.Lines) != invoice.MaxEventLines || m.Data.LineCount == nil || *m.Data.LineCount != invoice.MaxLines {
				t.Errorf("%s carries %d lines, line_count %v; want %d of %d", m.Type, len(m.Data.Lines), m.Data.LineCount, invoice.MaxEventLines, invoice.MaxLines)
			}
		}
		if strings.Contains(string(m.body), `\u003c`) {
			t.Errorf("%s escapes HTML", m.Type)
		}
	}
	t.Logf("largest message body: %d bytes", largest)
}

// warnings returns the lines of logs at level WARN or ERROR, shortened.
func warnings(logs string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"level":"WARN"`) || strings.Contains(l, `"level":"ERROR"`) {
			out = append(out, l[:min(len(l), 400)])
		}
	}
	return strings.Join(out[:min(len(out), 5)], "\n")
}

// TestStartRefusesANATSServerBelowTheLargestEvent runs serve and relay
// against a server whose max_payload is one byte short of
// relay.MaxEventBytes: each must refuse to start, naming the setting.
func TestStartRefusesANATSServerBelowTheLargestEvent(t *testing.T) {
	t.Parallel()
	ns := natstest.New(t, natstest.MaxPayload(relay.MaxEventBytes-1))
	getenv := env(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "NATS_URL": ns.URL(), "HTTP_ADDR": "127.0.0.1:0"})
	for _, cmd := range []string{"serve", "relay"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		logs := &syncBuffer{}
		err := run(ctx, []string{cmd}, getenv, logs)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "max_payload") || !strings.Contains(err.Error(), fmt.Sprint(relay.MaxEventBytes)) {
			t.Errorf("%s: returned %v, want a start-up error naming max_payload and the %d bytes needed\n%s", cmd, err, relay.MaxEventBytes, logs)
		}
	}
}

// TestAParkedEventShowsInReadyzAndMetrics commits, as an earlier release
// could, an event larger than the server's max_payload, and a later event of
// its invoice: the first is parked at its first rejection, the second waits
// behind it, and both /readyz (without failing readiness) and /metrics say
// so, as does `outbox failed`.
func TestAParkedEventShowsInReadyzAndMetrics(t *testing.T) {
	t.Parallel()
	ns := natstest.New(t)
	dbURL := pgtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL, "NATS_URL": ns.URL(), "RELAY_POLL_INTERVAL": "100ms"})

	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	tenant, agg, big := uuid.New(), uuid.New(), uuid.New()
	huge := `{"description": "` + strings.Repeat("x", 1<<20) + `"}`
	for v, payload := range []string{huge, `{}`} {
		id := big
		if v > 0 {
			id = uuid.New()
		}
		if _, err := pool.Exec(ctx, `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
VALUES ($1, $2, $3, $4, 'invoice.created', $5, now())`, id, tenant, agg, v+1, payload); err != nil {
			t.Fatal(err)
		}
	}

	var body struct {
		Status string
		Checks map[string]struct {
			Status, Reason string
			Parked         *int64
		}
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		res, err := http.Get(s.base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		outbox := body.Checks["outbox"]
		if outbox.Parked != nil && *outbox.Parked == 1 {
			if res.StatusCode != http.StatusOK || body.Status != "ready" || outbox.Status != "warning" ||
				!strings.Contains(outbox.Reason, "invoicing outbox failed") {
				t.Fatalf("GET /readyz = %d %+v, want 200 ready with outbox warning naming `invoicing outbox failed`", res.StatusCode, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz shows no parked event after 15s: %d %+v\n%s", res.StatusCode, body, warnings(s.logs.String()))
		}
		time.Sleep(50 * time.Millisecond)
	}

	got := s.scrape(t)
	for series, want := range map[string]float64{"outbox_parked_events": 1, "relay_events_parked_total": 1, "outbox_unpublished_events": 2,
		`relay_publish_failures_total{reason="rejected"}`: 1} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
	var out strings.Builder
	if err := run(ctx, []string{"outbox", "failed"}, env(map[string]string{"DATABASE_URL": dbURL}), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), big.String()) || !strings.Contains(out.String(), "maximum payload") || !strings.Contains(out.String(), "1 parked events") {
		t.Errorf("outbox failed printed:\n%s\nwant the event %s, parked as too large", out.String(), big)
	}
}
