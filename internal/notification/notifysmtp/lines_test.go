package notifysmtp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
)

// The longest values the invoicing API accepts (internal/invoicing/domain/invoice):
// what a tenant can put into an email.
const (
	maxName        = 200 // runes
	maxDescription = 500 // runes
	maxReason      = 500 // runes
	maxNumber      = 64  // runes; the service's own numbers are shorter
	maxEventLines  = 100 // lines an issued event carries
	maxQuantity    = 1_000_000
)

// longestEmail is an address of 254 octets, the most the API accepts.
var longestEmail = strings.Repeat("a", 242) + "@example.com"

// longestEmailIn returns the longest address whose local part is written
// in s and whose domain is internationalised, within 254 octets.
func longestEmailIn(s string) string {
	const domain = "@bücher.example"
	var local strings.Builder
	for _, r := range repeat(s, 254) {
		if local.Len()+len(string(r))+len(domain) > 254 {
			break
		}
		local.WriteRune(r)
	}
	return local.String() + domain
}

// scripts are texts whose encoded forms are long: four-octet emoji, joined
// emoji, CJK, right-to-left Arabic, stacked combining marks, and ASCII with
// no space to fold at.
var scripts = map[string]string{
	"emoji":          "😀",
	"joined emoji":   "👩‍👩‍👧‍👦",
	"CJK":            "請求書",
	"Arabic":         "فاتورة",
	"combining":      "e\u0301\u0323\u0308",
	"unbroken ASCII": "x",
}

// repeat returns n runes of s, repeated.
func repeat(s string, n int) string {
	r := []rune(s)
	out := make([]rune, n)
	for i := range out {
		out[i] = r[i%len(r)]
	}
	return string(out)
}

// longestEvents returns one event of each type this context mails, every
// text at its longest in script s and every amount at its largest.
func longestEvents(t *testing.T, s, email string) []notification.Event {
	customer := notification.Customer{Name: repeat(s, maxName), Email: email}
	number := repeat(s, maxNumber)
	lines := make([]notification.Line, maxEventLines)
	for i := range lines {
		lines[i] = notification.Line{Description: repeat(s, maxDescription), Quantity: maxQuantity, UnitAmount: math.MaxInt64, Amount: math.MaxInt64, Tax: math.MaxInt64}
	}
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	data := map[string]any{
		notification.InvoiceIssued: notification.Issued{
			InvoiceID: "i1", Number: number, Currency: "KWD", Customer: customer, DueDate: "2026-12-31", Lines: lines, LineCount: 500,
			Subtotal: math.MaxInt64, Tax: math.MaxInt64, Total: math.MaxInt64, AmountDue: math.MaxInt64, IssuedAt: at,
		},
		notification.InvoicePaid: notification.Paid{
			InvoiceID: "i1", Number: number, Customer: customer, Currency: "KWD", Total: math.MaxInt64,
			AmountPaid: math.MaxInt64, PrePaymentCredit: math.MaxInt64, PaidAt: at,
		},
		notification.InvoiceVoided: notification.Voided{InvoiceID: "i1", Number: number, Reason: repeat(s, maxReason), VoidedAt: at},
	}
	var evs []notification.Event
	for i, typ := range []string{notification.InvoiceIssued, notification.InvoicePaid, notification.InvoiceVoided} {
		b, err := json.Marshal(data[typ])
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, notification.Event{ID: fmt.Sprintf("019ad1c2-0000-7000-8000-00000000000%d", i), Type: typ, Data: b})
	}
	return evs
}

// No line of any email exceeds 998 octets, whatever the tenant wrote, so a
// server that enforces the limit takes every one.
func TestNoLineOfAnEmailExceeds998Octets(t *testing.T) {
	srv := smtptest.NewWith(t, smtptest.Options{RefuseLongLines: true, SMTPUTF8: true})
	m, err := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "Billing <billing@example.com>", Domain: "mail.test", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range scripts {
		t.Run(name, func(t *testing.T) {
			for _, addr := range []string{longestEmail, longestEmailIn(s)} {
				for _, ev := range longestEvents(t, s, addr) {
					to := notification.Customer{Name: repeat(s, maxName), Email: addr}
					sendLongest(t, srv, m, ev, to)
				}
			}
		})
	}
}

// sendLongest sends the emails of the reactions to ev and checks what the
// server received: no line over 998 octets, To and Subject decoding to
// what was rendered.
func sendLongest(t *testing.T, srv *smtptest.Server, m *notifysmtp.Mailer, ev notification.Event, to notification.Customer) {
	t.Helper()
	tasks := notification.Plan(ev, to, notification.DefaultReactions())
	if len(tasks) == 0 {
		t.Fatalf("no reaction to %s", ev.Type)
	}
	for _, task := range tasks {
		e, err := notification.Render(task, notification.DefaultReactions())
		if err != nil {
			t.Fatal(err)
		}
		before := len(srv.Messages())
		if err := m.Send(context.Background(), e); err != nil {
			t.Errorf("%s: send: %v", task.Reaction, err)
			continue
		}
		got := srv.Messages()[before]
		if n := smtptest.LongestLine(got.Raw); n > smtptest.MaxLine {
			t.Errorf("%s: a line of %d octets", task.Reaction, n)
		}
		if to, err := got.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Name != e.To.Name || len(got.To) != 1 || to[0].Address != got.To[0] {
			t.Errorf("%s: To %q parses as %v, %v", task.Reaction, got.Header.Get("To"), to, err)
		}
		if got.Subject() != e.Subject {
			t.Errorf("%s: subject %q, want %q", task.Reaction, got.Subject(), e.Subject)
		}
	}
}
