package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// startTracedServe runs serve, with its relay and notification consumer
// inside (its own embedded NATS, smtp's server) and the variables of more,
// recording its spans in exp instead of exporting them. It returns the base
// URL, an API key of tenant acme and a stop that cancels serve and waits for
// it.
func startTracedServe(t *testing.T, exp sdktrace.SpanExporter, smtp string, more map[string]string) (base, key string, stop func()) {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": natstest.New(t).URL(),
		"NOTIFY_ENABLED": "true", "SMTP_URL": smtp,
	}
	maps.Copy(vars, more)
	getenv := env(vars)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	key = migrateWithKey(ctx, t, getenv)
	cfg, err := loadConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.traceExporter = exp
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, newLogger(logs, cfg.LogLevel), nil) }()
	base = "http://" + waitListening(t, logs, done)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after cancel", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not stop within 30s of cancellation")
		}
	}
	t.Cleanup(stop)
	return base, key, stop
}

// keptSpans is an in-memory exporter that keeps its spans when serve shuts
// tracing down (InMemoryExporter forgets them then).
type keptSpans struct{ *tracetest.InMemoryExporter }

func (keptSpans) Shutdown(context.Context) error { return nil }

// TestPaymentIsOneTrace pays an invoice with a caller's traceparent against
// the real program and reads the spans it recorded: the request's server
// span (child of the caller's), its database transaction beneath it, the
// relay's publish of invoice.paid, the notification consumer's processing
// of it and the receipt's email task, all in the caller's trace and parented
// by the request's span, whose context the event carries.
func TestPaymentIsOneTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	mail := smtptest.New(t)
	base, key, stop := startTracedServe(t, keptSpans{exp}, mail.URL(), nil)
	c := client{t: t, base: base, key: key}
	id := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR",
		"lines":[{"description":"Consulting","quantity":1,"unit_amount":1500,"tax_rate_bps":0}]}`, 201)["id"].(string)
	c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)

	const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req, _ := http.NewRequest("POST", base+"/v1/invoices/"+id+"/payments", strings.NewReader(`{"amount":1500,"reference":"psp_1"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", caller)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pay: %d", resp.StatusCode)
	}
	mail.Wait(2, time.Minute) // the invoice's email and the receipt
	traceParents := map[string]string{}
	for _, e := range c.call("GET", "/v1/invoices/"+id+"/events", ``, 200)["data"].([]any) {
		ev := e.(map[string]any)
		traceParents[ev["type"].(string)], _ = ev["traceparent"].(string)
	}
	stop() // every span has ended

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	var inTrace []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID().String() == traceID {
			inTrace = append(inTrace, s)
		}
	}
	find := func(name string) tracetest.SpanStub {
		t.Helper()
		for _, s := range inTrace {
			if s.Name == name {
				return s
			}
		}
		var names []string
		for _, s := range inTrace {
			names = append(names, s.Name)
		}
		t.Fatalf("no span %q in the payment's trace; it has %q", name, names)
		return tracetest.SpanStub{}
	}
	httpSpan := find("POST /v1/invoices/{id}/payments")
	if got := httpSpan.Parent.SpanID().String(); got != "00f067aa0ba902b7" || !httpSpan.Parent.IsRemote() {
		t.Errorf("request span's parent %s (remote %t), want the caller's 00f067aa0ba902b7", got, httpSpan.Parent.IsRemote())
	}
	if httpSpan.SpanKind != trace.SpanKindServer {
		t.Errorf("request span kind %v", httpSpan.SpanKind)
	}
	if !slices.Contains(httpSpan.Attributes, attribute.String("request_id", resp.Header.Get("X-Request-Id"))) {
		t.Errorf("request span attributes %v lack request_id %q", httpSpan.Attributes, resp.Header.Get("X-Request-Id"))
	}
	for _, want := range []struct {
		name string
		kind trace.SpanKind
	}{
		{"invoice update transaction", trace.SpanKindClient},
		{"publish invoicing.invoice.paid", trace.SpanKindProducer},
		{"process invoicing.invoice.paid", trace.SpanKindConsumer},
		{"email receipt", trace.SpanKindInternal},
	} {
		s := find(want.name)
		if s.Parent.SpanID() != httpSpan.SpanContext.SpanID() {
			t.Errorf("%s: parent %s, want the request's span %s", want.name, s.Parent.SpanID(), httpSpan.SpanContext.SpanID())
		}
		if s.SpanKind != want.kind {
			t.Errorf("%s: kind %v, want %v", want.name, s.SpanKind, want.kind)
		}
	}

	// The event stores the request span's context: that is what the relay
	// and the consumer continued.
	if want := "00-" + traceID + "-" + httpSpan.SpanContext.SpanID().String() + "-01"; traceParents["invoicing.invoice.paid"] != want {
		t.Errorf("invoice.paid carries traceparent %q, want the request span's %q", traceParents["invoicing.invoice.paid"], want)
	}
}

// TestOverdueJobIsTraced runs serve's overdue job with tracing on: the
// change that records an invoice overdue goes through the same traced unit
// of work as a request's, in a trace of its own since no request caused it.
func TestOverdueJobIsTraced(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	mail := smtptest.New(t)
	base, key, stop := startTracedServe(t, keptSpans{exp}, mail.URL(), map[string]string{"OVERDUE_INTERVAL": "50ms"})
	c := client{t: t, base: base, key: key}
	id := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","due_date":"2026-01-15",
		"lines":[{"description":"Consulting","quantity":1,"unit_amount":5000}]}`, 201)["id"].(string)
	c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
	deadline := time.Now().Add(15 * time.Second)
	for c.call("GET", "/v1/invoices/"+id, ``, 200)["overdue"] != true {
		if time.Now().After(deadline) {
			t.Fatalf("invoice %s not overdue after 15s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop() // every span has ended

	var names []string
	for _, s := range exp.GetSpans() {
		names = append(names, s.Name)
		if s.Name == "invoice update transaction" && !s.Parent.IsValid() &&
			slices.Contains(s.Attributes, attribute.String("invoice.id", id)) {
			return
		}
	}
	t.Fatalf("no root span \"invoice update transaction\" of invoice %s: the overdue job bypassed the traced unit of work; spans %q", id, names)
}

// TestServeExportsToTheOTLPEndpoint runs serve with
// OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP receiver of the
// test's, makes one request and stops serve: the request's span must have
// reached the receiver by then (shutdown flushes), from service invoicing.
func TestServeExportsToTheOTLPEndpoint(t *testing.T) {
	var (
		mu    sync.Mutex
		names []string
		svc   string
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
			http.Error(w, "not an OTLP/HTTP trace export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rs := range req.ResourceSpans {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					svc = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names = append(names, s.Name)
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer receiver.Close()
	// The OTel SDK reads its variables from the process environment.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.URL)
	getenv := env(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.URL})
	ctx := context.Background()
	key := migrateWithKey(ctx, t, getenv)
	base, stop := startCommand(t, getenv, "serve")
	c := client{t: t, base: base, key: key}
	c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR"}`, 201)
	stop()

	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(names, "POST /v1/invoices") || !slices.Contains(names, "invoice add transaction") || svc != "invoicing" {
		t.Errorf("the receiver got spans %q from service %q; want the request's and its transaction's, from invoicing", names, svc)
	}
}

// TestNotifySpansNameTheNotifyService runs `notify` with tracing on (the
// spans recorded, no collector) and has it process one event: its spans'
// resource must say invoicing-notify, so that they are told apart from
// serve's.
func TestNotifySpansNameTheNotifyService(t *testing.T) {
	ns := natstest.New(t)
	getenv := env(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": ns.URL()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatal(err)
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
	id := uuid.NewString()
	ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":"invoicing.invoice.voided","subject":"i","time":"2026-11-30T10:00:00Z",
"datacontenttype":"application/json","tenantid":"t","sequence":"1","invoiceversion":2,"data":{}}`, id)
	if _, err := js.Publish(ctx, "invoicing.invoice.voided", []byte(ev), jetstream.WithMsgID(id)); err != nil {
		t.Fatal(err)
	}

	cfg, err := loadConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	cfg.traceExporter = keptSpans{exp}
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- notify(ctx, cfg, newLogger(logs, cfg.LogLevel), nil, io.Discard) }()
	for deadline := time.Now().Add(30 * time.Second); len(exp.GetSpans()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("notify recorded no span in 30s\n%s", logs.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("notify returned %v", err)
	}
	for _, s := range exp.GetSpans() {
		if got, _ := s.Resource.Set().Value(semconv.ServiceNameKey); got.AsString() != "invoicing-notify" {
			t.Errorf("span %q has service.name %q, want invoicing-notify", s.Name, got.AsString())
		}
	}
}
