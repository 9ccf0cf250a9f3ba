package tracing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// discard is an exporter that drops every span: what tracing costs the
// process, without a collector's network cost.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkPayTracing is the pay path, POST /v1/invoices/{id}/payments
// through the whole handler (middleware, authentication, use case, the
// PostgreSQL unit of work), with tracing off (as main wires it without an
// endpoint) and on (every request sampled, its spans batched to an exporter
// that drops them). The two alternate in blocks of 8 payments within one
// loop, so a busy machine slows both alike. It reports, for each, the time
// and this process's CPU time (getrusage: the handler, pgx, the spans and
// their exporter; not PostgreSQL) per payment, and its allocations per
// payment; on/off is the ratio of the CPU times.
func BenchmarkPayTracing(b *testing.B) {
	pool := pgtest.New(b)
	off := newPayer(b, pool, nil)
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
	b.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
	on := newPayer(b, pool, sdk)
	allocsOff, allocsOn := testing.AllocsPerRun(100, off.pay), testing.AllocsPerRun(100, on.pay)

	const block = 8
	var wall, cpu [2]time.Duration // off, on
	run := func(p *payer, i int) {
		start, cpu0 := time.Now(), cpuTime(b)
		for range block {
			p.pay()
		}
		cpu[i] += cpuTime(b) - cpu0
		wall[i] += time.Since(start)
	}
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			run(off, 0)
			run(on, 1)
		} else {
			run(on, 1)
			run(off, 0)
		}
		n++
	}
	pays := float64(n * block)
	b.ReportMetric(float64(wall[0].Nanoseconds())/pays, "ns/pay-off")
	b.ReportMetric(float64(wall[1].Nanoseconds())/pays, "ns/pay-on")
	b.ReportMetric(float64(cpu[0].Nanoseconds())/pays, "cpu-ns/pay-off")
	b.ReportMetric(float64(cpu[1].Nanoseconds())/pays, "cpu-ns/pay-on")
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-on/off")
	b.ReportMetric(allocsOff, "allocs/pay-off")
	b.ReportMetric(allocsOn, "allocs/pay-on")
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// payer pays 1 cent at a time on invoices of its own tenant, spread over
// many invoices so that no invoice's payments grow long.
type payer struct {
	b   *testing.B
	h   http.Handler
	key string
	ids []string
	n   int
}

// newPayer returns a payer through a handler wired as main wires it: with
// tp nil, tracing off (no decorator, the handler's no-op provider); else
// the request and unit-of-work spans recorded by tp.
func newPayer(b *testing.B, pool *pgxpool.Pool, tp *sdktrace.TracerProvider) *payer {
	repo := invoicingpg.NewInvoices(pool)
	var invs app.Invoices = repo
	cfg := invoicinghttp.Config{}
	if tp != nil {
		invs, cfg.Tracer = tracing.Invoices(invs, tp), tp
	}
	store := struct {
		app.Invoices
		app.InvoiceReads
	}{invs, repo}
	a := app.New(store, invoicingpg.NewAPIKeys(pool), invoicingpg.NewEvents(pool), app.SystemClock{})
	key, _, err := a.CreateAPIKey.Handle(context.Background(), app.CreateAPIKey{TenantName: fmt.Sprint("bench ", tp != nil)})
	if err != nil {
		b.Fatal(err)
	}
	p := &payer{b: b, h: invoicinghttp.NewHandler(a, cfg), key: key, ids: make([]string, 256)}
	for i := range p.ids {
		w := p.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR",
			"lines":[{"description":"Consulting","quantity":1,"unit_amount":1000000,"tax_rate_bps":0}]}`)
		var inv struct{ ID string }
		if err := json.Unmarshal(w.Body.Bytes(), &inv); err != nil || w.Code != http.StatusCreated {
			b.Fatalf("create: %d %s", w.Code, w.Body)
		}
		p.ids[i] = inv.ID
		if w := p.call("POST", "/v1/invoices/"+inv.ID+"/issue", ""); w.Code != http.StatusOK {
			b.Fatalf("issue: %d %s", w.Code, w.Body)
		}
	}
	return p
}

func (p *payer) call(method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.key)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, req)
	return w
}

// pay pays the next invoice 1 cent, failing the benchmark unless it gets 200.
func (p *payer) pay() {
	p.n++
	w := p.call("POST", "/v1/invoices/"+p.ids[p.n%len(p.ids)]+"/payments", fmt.Sprintf(`{"amount":1,"reference":"ref-%d"}`, p.n))
	if w.Code != http.StatusOK {
		p.b.Fatalf("pay: %d %s", w.Code, w.Body)
	}
}
