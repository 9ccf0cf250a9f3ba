package tracing_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestFromEnvIsOffWithoutAnEndpoint(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string // the endpoint; "" is off
	}{
		{"nothing set", nil, ""},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"}, "http://localhost:4318"},
		{"traces endpoint wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/v1/traces"}, "http://b:4318/v1/traces"},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "none"}, ""},
		{"protocol named", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "http://a:4318"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tracing.FromEnv(func(k string) string { return tt.env[k] })
			if err != nil || cfg.Endpoint != tt.want {
				t.Fatalf("FromEnv = %+v, %v; want endpoint %q", cfg, err, tt.want)
			}
			tp, err := tracing.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer tp.Shutdown(context.Background())
			if tp.Enabled() != (tt.want != "") {
				t.Errorf("Enabled = %t with endpoint %q", tp.Enabled(), tt.want)
			}
		})
	}
	if _, err := tracing.FromEnv(func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}[k]
	}); err == nil {
		t.Error("FromEnv accepted OTEL_EXPORTER_OTLP_PROTOCOL=grpc, which this build cannot speak")
	}
}

// pub answers each message with the error of its subject in errs.
type pub struct {
	relay.Publisher
	errs map[string]error
}

func (p pub) Publish(_ context.Context, msgs []relay.Message) []error {
	out := make([]error, len(msgs))
	for i, m := range msgs {
		out[i] = p.errs[m.Subject]
	}
	return out
}

func TestPublisherSpansJoinTheStoredTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	refused := errors.New("refused")
	p := tracing.Publisher(pub{errs: map[string]error{"invoicing.invoice.voided": refused}}, tp)
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	errs := p.Publish(context.Background(), []relay.Message{
		{Subject: "invoicing.invoice.paid", ID: "e1", TraceParent: parent, TraceState: "congo=t61rcWkgMzE"},
		{Subject: "invoicing.invoice.voided", ID: "e2"},
	})
	if len(errs) != 2 || errs[0] != nil || !errors.Is(errs[1], refused) {
		t.Fatalf("errors %v, want the publisher's", errs)
	}
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want one per message", len(spans))
	}
	paid, voided := spans[0], spans[1]
	if paid.Name() != "publish invoicing.invoice.paid" || paid.SpanKind() != trace.SpanKindProducer {
		t.Errorf("span %q kind %v", paid.Name(), paid.SpanKind())
	}
	if got := paid.Parent(); got.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || got.SpanID().String() != "00f067aa0ba902b7" ||
		paid.SpanContext().TraceState().Get("congo") != "t61rcWkgMzE" {
		t.Errorf("paid's parent %v (state %v), want the stored traceparent's", got, paid.SpanContext().TraceState())
	}
	if voided.Parent().IsValid() || voided.Status().Code != codes.Error {
		t.Errorf("voided: parent %v, status %v; want a trace of its own, failed", voided.Parent(), voided.Status())
	}
}

// failingInvoices fails every change with err.
type failingInvoices struct {
	app.Invoices
	err error
}

func (f failingInvoices) Update(ctx context.Context, _ kernel.TenantID, _ invoice.ID, _ app.ChangeOptions, _ app.UpdateFunc) (app.Changed, error) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return app.Changed{}, errors.New("the unit of work does not run inside its span")
	}
	return app.Changed{}, f.err
}

func TestInvoicesSpanWrapsTheUnitOfWork(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	busy := app.ErrInvoiceBusy
	invs := tracing.Invoices(failingInvoices{err: busy}, tp)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	_, err := invs.Update(ctx, kernel.TenantID{}, invoice.ID{}, app.ChangeOptions{}, nil)
	parent.End()
	if !errors.Is(err, busy) {
		t.Fatalf("Update = %v, want the inner error unchanged", err)
	}
	spans := rec.Ended()
	if len(spans) != 2 || spans[0].Name() != "invoice update transaction" || spans[0].Parent().SpanID() != parent.SpanContext().SpanID() ||
		spans[0].Status().Code != codes.Error {
		t.Fatalf("spans %v: want the transaction's, failed, inside the request's", spans)
	}
}

// TestServiceNameIsTheCommandsUnlessTheEnvironmentSaysOtherwise reads the
// service.name of the resource the SDK gives a span: the Config's, or
// "invoicing" when it names none, and OTEL_SERVICE_NAME's when that is set.
func TestServiceNameIsTheCommandsUnlessTheEnvironmentSaysOtherwise(t *testing.T) {
	for _, tt := range []struct {
		name, configured, env, want string
	}{
		{"default", "", "", "invoicing"},
		{"configured", "invoicing-notify", "", "invoicing-notify"},
		{"environment wins", "invoicing-notify", "billing-consumer", "billing-consumer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OTEL_SERVICE_NAME", tt.env)
			exp := tracetest.NewInMemoryExporter()
			tp, err := tracing.New(context.Background(), tracing.Config{Exporter: exp, ServiceName: tt.configured},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			_, span := tp.Tracer("test").Start(context.Background(), "work")
			span.End()
			spans := exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			got, _ := spans[0].Resource.Set().Value(semconv.ServiceNameKey)
			if got.AsString() != tt.want {
				t.Errorf("service.name %q, want %q", got.AsString(), tt.want)
			}
		})
	}
}
