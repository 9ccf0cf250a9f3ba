package relay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice/invoicetest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/kernel"
	"github.com/invoicing-dev/invoicing/internal/natstest"
)

// largestTrace is the longest trace a request can give its events: a
// 128-character X-Request-Id and a 512-character tracestate, of the visible
// ASCII character that is longest in JSON in cs (\u003c where HTML is
// escaped, else \" ).
func largestTrace(cs invoicetest.Charset) outbox.Trace {
	c := `"`
	if cs.Name == "html" {
		c = "<"
	}
	return outbox.Trace{CorrelationID: strings.Repeat(c, 128),
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", TraceState: strings.Repeat(c, 512)}
}

// life is an invoice's creation and the changes that follow it.
type life struct {
	create func() (*invoice.Invoice, error)
	steps  []func(*invoice.Invoice) error
}

// largestLives returns lives raising events of every type at the largest
// the limits allow in cs: an invoice of invoice.MaxLines lines of
// invoice.MaxDescription characters created, a line removed and added,
// issued with the longest number, paid in two payments with the longest
// references; another one issued, written off, overdue, edited and voided
// with the longest reason. Both carry the largest metadata.
func largestLives(tenant kernel.TenantID, cs invoicetest.Charset) []life {
	now := time.Now()
	// The longest numbers the domain accepts, one per invoice.
	issue := func(first string) func(*invoice.Invoice) error {
		return func(inv *invoice.Invoice) error { return inv.Issue(first+cs.Text(63), now) }
	}
	paid := life{
		create: func() (*invoice.Invoice, error) {
			return invoice.New(invoice.NewID(), tenant, "EUR", cs.Customer(), now, cs.Lines(), now, invoice.WithMetadata(cs.Metadata()))
		},
		steps: []func(*invoice.Invoice) error{
			func(inv *invoice.Invoice) error { return inv.RemoveLine(inv.Lines()[0].ID, now) },
			func(inv *invoice.Invoice) error { _, err := inv.AddLine(cs.Line(), now); return err },
			issue("p"),
			func(inv *invoice.Invoice) error {
				half, _ := kernel.NewMoney(inv.AmountDue().Amount()/2, "EUR")
				return inv.Pay(half, cs.Text(invoice.MaxReference), now)
			},
			func(inv *invoice.Invoice) error {
				return inv.Pay(inv.AmountDue(), "b"+cs.Text(invoice.MaxReference-1), now)
			},
		},
	}
	voided := life{
		create: func() (*invoice.Invoice, error) {
			return invoice.New(invoice.NewID(), tenant, "EUR", cs.Customer(), now, []invoice.LineInput{cs.Line()}, now, invoice.WithMetadata(cs.Metadata()))
		},
		steps: []func(*invoice.Invoice) error{issue("v"),
			func(inv *invoice.Invoice) error { return inv.MarkUncollectible(now) },
			func(inv *invoice.Invoice) error { inv.MarkOverdue(now.AddDate(0, 0, 2)); return nil },
			func(inv *invoice.Invoice) error {
				return inv.Edit(invoice.Changes{Metadata: map[string]string{"00" + cs.Text(invoice.MaxMetadataKey-2): ""}}, now)
			},
			func(inv *invoice.Invoice) error { return inv.Void(cs.Text(invoice.MaxReason), now) }},
	}
	return []life{paid, voided}
}

// events returns the events of l, lived in memory.
func (l life) events(t *testing.T) []invoice.Event {
	t.Helper()
	inv, err := l.create()
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range l.steps {
		if err := step(inv); err != nil {
			t.Fatal(err)
		}
	}
	return inv.PullEvents()
}

// commit lives l through repo, with ctx's trace, and returns how many
// events it committed.
func (l life) commit(t *testing.T, ctx context.Context, repo *invoicingpg.Invoices) int {
	t.Helper()
	inv, err := l.create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Add(ctx, inv, app.ChangeOptions{}, app.Result{}); err != nil {
		t.Fatalf("add: %v", err)
	}
	for _, step := range l.steps {
		changed, err := repo.Update(ctx, inv.Tenant(), inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
			return app.Result{}, step(inv)
		})
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		inv = changed.Invoice
	}
	return int(inv.Version())
}

// TestLargestEventsFitMaxEventBytes proves relay.MaxEventBytes: it encodes
// every event of the largest invoices, in every charset, with the longest
// trace, and measures the CloudEvent and its headers. It measures twice:
// with the data as encoding/json writes it at its most escaped (HTML and
// U+2028, up to 6 bytes a character), as if sent as stored, the bound
// whatever the storage and the encoding; and as the relay reads it back from PostgreSQL and publishes it, to an
// embedded NATS server whose max_payload is relay.MaxEventBytes, so that
// the client's own check of body and headers is the measure.
func TestLargestEventsFitMaxEventBytes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.nats = natstest.New(t, natstest.MaxPayload(relay.MaxEventBytes))
	repo := invoicingpg.NewInvoices(h.pool)

	written, largest := 0, 0
	for _, cs := range invoicetest.Charsets {
		trace := largestTrace(cs)
		for _, l := range largestLives(h.tenant, cs) {
			for _, e := range l.events(t) {
				data, err := json.Marshal(e)
				if err != nil {
					t.Fatal(err)
				}
				// The envelope around empty data, plus the data as written:
				// Encode would shorten its escapes.
				envelope, err := cloudevent.Encode(outbox.EventRecord{Sequence: 1 << 62, ID: e.Meta().ID, Tenant: e.Meta().Tenant,
					AggregateID: uuid.UUID(e.AggregateID()), Version: e.Meta().Version, Type: e.Type(), Payload: []byte("{}"),
					OccurredAt: e.Meta().OccurredAt, Trace: trace})
				if err != nil {
					t.Fatal(err)
				}
				// The headers as NATS encodes them: a status line, then
				// "Name: value\r\n" each, then "\r\n".
				headers := len("NATS/1.0\r\n") + len("Content-Type: \r\n") + len(cloudevent.ContentType) +
					len("Nats-Msg-Id: \r\n") + 36 + len(invoicingnats.HeaderCorrelationID+": \r\n") + len(trace.CorrelationID) +
					len(invoicingnats.HeaderTraceParent+": \r\n") + len(trace.TraceParent) +
					len(invoicingnats.HeaderTraceState+": \r\n") + len(trace.TraceState) + 2
				size := len(envelope) - len("{}") + len(data) + headers
				largest = max(largest, size)
				if size > relay.MaxEventBytes {
					t.Errorf("%s %s: %d bytes, over relay.MaxEventBytes (%d)", cs.Name, e.Type(), size, relay.MaxEventBytes)
				}
			}
			written += l.commit(t, app.WithTrace(context.Background(), trace), repo)
		}
	}
	t.Logf("largest message as written: %d bytes of %d (%d events)", largest, relay.MaxEventBytes, written)

	h.start(context.Background(), fastConfig(), invoicingnats.StreamConfig{}, nil)
	eventually(t, 30*time.Second, "every event is published", func() bool { return h.unpublished() == 0 })
	msgs := h.stream()
	checkExactlyOnceInOrder(t, msgs, written)
	sent := 0
	for _, m := range msgs {
		sent = max(sent, m.Size)
		if strings.Contains(string(m.Data), `\u003c`) || strings.Contains(string(m.Data), `\u2028`) {
			t.Errorf("%s of %s escapes what JSON allows raw", m.Type, m.Subject)
		}
	}
	t.Logf("largest message as sent: body of %d bytes", sent)
}
