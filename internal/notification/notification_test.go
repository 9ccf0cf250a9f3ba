package notification

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{12000, "EUR", "EUR 120.00"},
		{1200, "JPY", "JPY 1,200"},
		{1500, "KWD", "KWD 1.500"},
		{5, "EUR", "EUR 0.05"},
		{0, "KWD", "KWD 0.000"},
		{-5, "EUR", "EUR -0.05"},
		{123456789, "USD", "USD 1,234,567.89"},
		{100000, "EUR", "EUR 1,000.00"},
		{999, "JPY", "JPY 999"},
		{math.MinInt64, "JPY", "JPY -9,223,372,036,854,775,808"},
	} {
		if got := FormatAmount(tc.minor, tc.currency); got != tc.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}

func TestDecodeEventSequenceStringOrNumber(t *testing.T) {
	for _, seq := range []string{`"42"`, `42`} {
		ev, err := DecodeEvent([]byte(`{"id":"0e1","type":"invoicing.invoice.paid","sequence":` + seq + `,"extra":true,"data":{}}`))
		if err != nil {
			t.Fatalf("sequence %s: %v", seq, err)
		}
		if ev.Sequence != "42" {
			t.Errorf("sequence %s decoded as %q, want 42", seq, ev.Sequence)
		}
	}
	for _, bad := range []string{`{"id":"0e1","type":"t","sequence":"4x"}`, `{"type":"t"}`, `not json`} {
		if _, err := DecodeEvent([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeEvent(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

const issuedData = `{"invoice_id":"i1","number":"INV-2026-000001","currency":"JPY","customer":{"name":"Ada <b>","email":"ada@example.com"},
"due_date":"2026-12-31","lines":[{"description":"<script>alert(1)</script>","quantity":2,"unit_amount":600,"tax_rate_bps":0,"amount":1200,"tax":0}],
"line_count":3,"subtotal":1200,"tax":0,"total":1200,"amount_due":1200,"issued_at":"2026-11-30T10:00:00Z"}`

func TestRenderInvoiceEscapesHTMLAndFormatsAmounts(t *testing.T) {
	ev := Event{ID: "e1", Type: InvoiceIssued, Data: []byte(issuedData)}
	to, ok, err := Recipient(ev)
	if err != nil || !ok {
		t.Fatalf("Recipient: %v, %t", err, ok)
	}
	tasks := Plan(ev, to, DefaultReactions())
	if len(tasks) != 1 || tasks[0].Reaction != "invoice" {
		t.Fatalf("Plan = %+v, want one invoice task", tasks)
	}
	e, err := Render(tasks[0], DefaultReactions())
	if err != nil {
		t.Fatal(err)
	}
	if e.Subject != "Invoice INV-2026-000001" || e.To.Email != "ada@example.com" {
		t.Errorf("subject %q to %q", e.Subject, e.To.Email)
	}
	if e.MessageID("mail.example") != "<e1.invoice@mail.example>" {
		t.Errorf("MessageID = %s", e.MessageID("mail.example"))
	}
	for _, want := range []string{"JPY 1,200", "2026-12-31", "2 more lines", "<script>alert(1)</script>"} {
		if !strings.Contains(e.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, e.Text)
		}
	}
	if strings.Contains(e.HTML, "<script>") || strings.Contains(e.HTML, "Ada <b>") {
		t.Errorf("HTML carries user input unescaped:\n%s", e.HTML)
	}
	if !strings.Contains(e.HTML, "&lt;script&gt;") || !strings.Contains(e.HTML, "JPY 1,200") {
		t.Errorf("HTML lacks the escaped description or the amount:\n%s", e.HTML)
	}
}

func TestSubjectStaysOneLine(t *testing.T) {
	ev := Event{ID: "e2", Type: InvoiceVoided, Data: []byte(`{"invoice_id":"i","number":"INV-1\r\nBcc: x@evil","reason":"r","voided_at":"2026-11-30T10:00:00Z"}`)}
	e, err := Render(Plan(ev, Customer{Name: "A", Email: "a@example.com"}, DefaultReactions())[0], DefaultReactions())
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(e.Subject, "\r\n") {
		t.Errorf("subject %q spans lines", e.Subject)
	}
}

// A receipt says what settled the invoice: payments, credit notes, or both.
func TestRenderReceiptNamesWhatSettledTheInvoice(t *testing.T) {
	for _, tc := range []struct {
		name          string
		paid, credit  int64
		want, notWant string
	}{
		{"payments", 1200, 0, "we received your payment of JPY 1,200 for invoice INV-2026-000001", "credit"},
		{"payments and credit", 700, 500, "we received payments of JPY 700, and credit notes cover JPY 500", "payment of"},
		{"credit alone", 0, 1200, "is settled by credit notes of JPY 1,200 on 2026-11-30. Nothing is due.", "payment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := fmt.Sprintf(`{"invoice_id":"0197c0b2-4a1d-7c52-8b7e-3d9f6a2c8e41","number":"INV-2026-000001",`+
				`"customer":{"name":"Ada","email":"ada@example.com"},"currency":"JPY","total":1200,`+
				`"amount_paid":%d,"pre_payment_credit":%d,"paid_at":"2026-11-30T10:00:00Z"}`, tc.paid, tc.credit)
			ev := Event{ID: "e2", Type: InvoicePaid, Data: []byte(data)}
			to, ok, err := Recipient(ev)
			if err != nil || !ok {
				t.Fatalf("Recipient: %v, %t", err, ok)
			}
			tasks := Plan(ev, to, DefaultReactions())
			if len(tasks) != 1 || tasks[0].Reaction != "receipt" {
				t.Fatalf("Plan = %+v, want one receipt task", tasks)
			}
			e, err := Render(tasks[0], DefaultReactions())
			if err != nil {
				t.Fatal(err)
			}
			for _, body := range []string{e.Text, strings.NewReplacer("<b>", "", "</b>", "").Replace(e.HTML)} {
				if !strings.Contains(body, tc.want) || strings.Contains(body, tc.notWant) {
					t.Errorf("receipt should say %q, not %q:\n%s", tc.want, tc.notWant, body)
				}
			}
		})
	}
}
