package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// invoices is app.Invoices with a span around each unit of work. The write
// port holds nothing else: reads go through the read ports, untraced.
type invoices struct {
	inner  app.Invoices
	tracer trace.Tracer
}

var _ app.Invoices = invoices{}

// Invoices returns inner with a span around each change's unit of work, Add
// and Update: the database transaction that stores the invoice and its
// events, retries of a lost race included. The span is a child of the
// request's span in ctx. Errors are inner's, unchanged (and recorded on the
// span).
func Invoices(inner app.Invoices, tp trace.TracerProvider) app.Invoices {
	return invoices{inner: inner, tracer: tp.Tracer(instrumentation)}
}

// txAttrs are the attributes of a unit of work's span.
func txAttrs(op string, id invoice.ID) trace.SpanStartOption {
	return trace.WithAttributes(semconv.DBSystemNamePostgreSQL, semconv.DBOperationName(op),
		attribute.String("invoice.id", id.String()))
}

// Add implements app.Invoices.Add in a span "invoice add transaction".
func (r invoices) Add(ctx context.Context, inv *invoice.Invoice, opts app.ChangeOptions, result app.Result) (app.Changed, error) {
	ctx, span := r.tracer.Start(ctx, "invoice add transaction", trace.WithSpanKind(trace.SpanKindClient), txAttrs("transaction", inv.ID()))
	defer span.End()
	changed, err := r.inner.Add(ctx, inv, opts, result)
	recordError(span, err)
	return changed, err
}

// Update implements app.Invoices.Update in a span "invoice update
// transaction".
func (r invoices) Update(ctx context.Context, tenant kernel.TenantID, id invoice.ID, opts app.ChangeOptions, fn app.UpdateFunc) (app.Changed, error) {
	ctx, span := r.tracer.Start(ctx, "invoice update transaction", trace.WithSpanKind(trace.SpanKindClient), txAttrs("transaction", id))
	defer span.End()
	changed, err := r.inner.Update(ctx, tenant, id, opts, fn)
	recordError(span, err)
	return changed, err
}
