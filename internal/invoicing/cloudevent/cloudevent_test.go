package cloudevent_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay/relaytest"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestEncodeFillsTheEnvelope(t *testing.T) {
	rec := outbox.EventRecord{
		Sequence:    42,
		ID:          kernel.EventID(uuid.MustParse("0190f7a8-0000-7000-8000-000000000001")),
		Tenant:      kernel.TenantID(uuid.MustParse("0190f7a8-0000-7000-8000-000000000002")),
		AggregateID: uuid.MustParse("0190f7a8-0000-7000-8000-000000000003"),
		Version:     4,
		Type:        "invoice.paid",
		Payload:     json.RawMessage(`{"total": 1200, "number": "INV-1"}`),
		OccurredAt:  time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600)),
	}
	b, err := cloudevent.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"specversion":     "1.0",
		"id":              "0190f7a8-0000-7000-8000-000000000001",
		"source":          "/invoicing",
		"type":            "invoicing.invoice.paid",
		"subject":         "0190f7a8-0000-7000-8000-000000000003",
		"time":            "2026-03-01T09:00:00.123456789Z",
		"datacontenttype": "application/json",
		"tenantid":        "0190f7a8-0000-7000-8000-000000000002",
		"sequence":        "42",
		"invoiceversion":  float64(4),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	data, _ := got["data"].(map[string]any)
	if data["total"] != float64(1200) || data["number"] != "INV-1" {
		t.Errorf("data = %v, want the payload as is", got["data"])
	}
	if len(got) != len(want)+1 {
		t.Errorf("envelope has %d fields, want %d: %v", len(got), len(want)+1, got)
	}
}

func TestEncodeRejectsAnInvalidPayload(t *testing.T) {
	if _, err := cloudevent.Encode(outbox.EventRecord{Payload: json.RawMessage(`{`)}); err == nil {
		t.Fatal("Encode accepted invalid JSON data")
	}
}

// A time RFC 3339 cannot write (a year past 9999, which a timestamptz
// holds) is an error, not a CloudEvent whose time no reader parses.
func TestEncodeRejectsATimeOutsideRFC3339(t *testing.T) {
	rec := outbox.EventRecord{Payload: json.RawMessage(`{}`), OccurredAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if b, err := cloudevent.Encode(rec); err == nil {
		t.Fatalf("Encode of an event of year 10000 = %s, want an error", b)
	}
}

// Invalid UTF-8 in an extension (none reaches the outbox's text columns,
// which hold UTF-8) still makes JSON in UTF-8, as RFC 8259 requires, the
// bytes replaced by U+FFFD. encoding/json's own check passes invalid UTF-8
// inside strings, so the test looks at the bytes.
func TestEncodeReplacesInvalidUTF8(t *testing.T) {
	rec := outbox.EventRecord{Payload: json.RawMessage(`{}`), OccurredAt: time.Now(), Trace: outbox.Trace{CorrelationID: "req\xff1"}}
	b, err := cloudevent.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(b) || !json.Valid(b) || !strings.Contains(string(b), `"correlationid":"req`+"\uFFFD"+`1"`) {
		t.Errorf("CloudEvent %q: want valid UTF-8 JSON with correlationid %q", b, "req\uFFFD1")
	}
}

func TestEncodeDecodesWithTheCloudEventsSDK(t *testing.T) {
	for _, seq := range []int64{1, math.MaxInt32, math.MaxInt32 + 1, 1<<53 + 1, math.MaxInt64} {
		rec := outbox.EventRecord{
			Sequence: seq, ID: kernel.EventID(uuid.New()), Tenant: kernel.TenantID(uuid.New()), AggregateID: uuid.UUID(invoice.NewID()), Version: 1,
			Type: "invoice.voided", Payload: json.RawMessage(`{"reason": "x"}`), OccurredAt: time.Now(),
		}
		b, err := cloudevent.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		relaytest.WantSequence(t, b, seq)
		var back cloudevent.Event
		if err := json.Unmarshal(b, &back); err != nil || back.Sequence != seq {
			t.Errorf("sequence %d decodes into cloudevent.Event as %d (%v)", seq, back.Sequence, err)
		}
	}
}

func TestEncodeEscapesNoHTML(t *testing.T) {
	rec := outbox.EventRecord{Sequence: 1, ID: kernel.EventID(uuid.New()), Tenant: kernel.TenantID(uuid.New()), AggregateID: uuid.UUID(invoice.NewID()),
		Version: 1, Type: "invoice.voided", Payload: json.RawMessage(`{"reason": "<b>R&D</b>` + "\u2028" + `"}`), OccurredAt: time.Now(),
		Trace: outbox.Trace{CorrelationID: "<req&1>"}}
	b, err := cloudevent.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"reason":"<b>R&D</b>` + "\u2028" + `"`, `"correlationid":"<req&1>"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("CloudEvent %s lacks %s: it escapes what JSON allows raw", b, want)
		}
	}
	// As encoding/json writes it, escaped: the CloudEvent has it raw.
	rec.Payload = json.RawMessage(`{"reason": "\u003cb\u003eR\u0026D\u003c/b\u003e\u2028"}`)
	if b, err = cloudevent.Encode(rec); err != nil {
		t.Fatal(err)
	}
	if want := `"reason":"<b>R&D</b>` + "\u2028" + `"`; !strings.Contains(string(b), want) {
		t.Errorf("CloudEvent %s lacks %s: it keeps escapes JSON does not need", b, want)
	}
}

// TestEncodeIsEventsJSON: Encode writes the members of Event by hand; it
// must write exactly what encoding/json makes of an Event (without HTML
// escaping), member for member, in the same order. Its data has no escape
// that Encode writes shorter (TestEncodeEscapesNoHTML has those).
func TestEncodeIsEventsJSON(t *testing.T) {
	base := outbox.EventRecord{
		Sequence: 1 << 40, ID: kernel.EventID(uuid.New()), Tenant: kernel.TenantID(uuid.New()), AggregateID: uuid.UUID(invoice.NewID()),
		Version: 7, Type: "invoice.paid", OccurredAt: time.Date(2026, 3, 1, 10, 0, 0, 120000000, time.FixedZone("CET", 3600)),
		Payload: json.RawMessage("{\"total\": 1200,\n \"lines\": [ {\"text\": \"a \\\"b\\\" <c>\"} ], \"x\": null }"),
	}
	traced := base
	traced.Trace = outbox.Trace{CorrelationID: `req-"1"\<&>`, TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		TraceState: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}
	onTheHour := base
	onTheHour.OccurredAt = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for name, rec := range map[string]outbox.EventRecord{"no trace": base, "traced": traced, "whole second": onTheHour} {
		got, err := cloudevent.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		want, err := outbox.MarshalData(cloudevent.Event{
			SpecVersion: cloudevent.SpecVersion, ID: rec.ID.String(), Source: cloudevent.Source, Type: cloudevent.Subject(rec.Type),
			Subject: rec.AggregateID.String(), Time: rec.OccurredAt.UTC(), DataContentType: "application/json", TenantID: rec.Tenant.String(),
			Sequence: rec.Sequence, InvoiceVersion: rec.Version, CorrelationID: rec.Trace.CorrelationID,
			TraceParent: rec.Trace.TraceParent, TraceState: rec.Trace.TraceState, Data: rec.Payload,
		})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Encode =\n%s\nencoding/json =\n%s", name, got, want)
		}
	}
}

// BenchmarkEncode encodes an invoice.paid event of about 300 bytes of data.
func BenchmarkEncode(b *testing.B) {
	rec := outbox.EventRecord{ID: kernel.EventID(uuid.New()), Tenant: kernel.TenantID(uuid.New()), AggregateID: uuid.New(),
		Version: 4, Type: "invoice.paid", OccurredAt: time.Now(), Sequence: 123456,
		Payload: []byte(`{"invoice_id": "0190f7a8-0000-7000-8000-000000000003", "number": "INV-2026-000123", "customer": {"name": "Acme Corporation", "email": "accounts.payable@acme.example"}, "currency": "EUR", "total": 123456, "amount_paid": 123456, "paid_at": "2026-03-01T10:00:00.123456Z"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cloudevent.Encode(rec); err != nil {
			b.Fatal(err)
		}
	}
}
