// Package invoicetest builds invoices for the tests and benchmarks of other
// packages.
package invoicetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Time is when Full's invoice is created, issued and paid.
var Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Full returns the largest invoice the domain allows: open, in EUR, with
// invoice.MaxLines lines (3 × 19.99 at 20% tax each) and the given number of
// partial payments of 1.00, its events pulled. It fails tb if the domain
// refuses any step.
func Full(tb testing.TB, payments int) *invoice.Invoice {
	tb.Helper()
	lines := make([]invoice.LineInput, invoice.MaxLines)
	for i := range lines {
		lines[i] = invoice.LineInput{Description: fmt.Sprintf("consulting, item %d", i), Quantity: 3, UnitAmount: 1999, TaxRateBPS: 2000}
	}
	inv, err := invoice.New(invoice.NewID(), kernel.TenantID(invoice.NewID()), "EUR",
		invoice.Customer{Name: "ACME", Email: "billing@acme.example"}, Time, lines, Time)
	if err != nil {
		tb.Fatal(err)
	}
	if err := inv.Issue("INV-2026-000001", Time); err != nil {
		tb.Fatal(err)
	}
	one, err := kernel.NewMoney(100, "EUR")
	if err != nil {
		tb.Fatal(err)
	}
	for i := range payments {
		if err := inv.Pay(one, fmt.Sprint("pay-", i), Time); err != nil {
			tb.Fatal(err)
		}
	}
	inv.PullEvents()
	return inv
}

// Charset is a kind of character that takes its own number of bytes in JSON.
// Text of each makes the largest invoices the limits allow, by the measure
// that matters where they are encoded.
type Charset struct {
	Name  string
	fill  []rune
	email string // the local part's character, where an address allows one
}

// Charsets are 1-byte letters; the HTML-special < > & (6 bytes each, as
// \u003c, where JSON escapes HTML); " and \ (2 bytes, escaped); U+2028 and
// U+2029 (3 bytes, 6 where JSON escapes them, as encoding/json always does);
// and a 4-byte emoji.
var Charsets = []Charset{
	{Name: "1-byte", fill: []rune("x"), email: "x"},
	{Name: "html", fill: []rune("<>&"), email: "&"},
	{Name: "json-escaped", fill: []rune(`"\`), email: "x"},
	{Name: "line-separator", fill: []rune("\u2028\u2029"), email: "x"},
	{Name: "4-byte", fill: []rune("😀"), email: "😀"},
}

// Text returns n characters (n >= 2) of cs, the first and last a letter, so
// that trimming and the non-blank rule keep all n.
func (cs Charset) Text(n int) string {
	out := make([]rune, n)
	for i := range out {
		out[i] = cs.fill[i%len(cs.fill)]
	}
	out[0], out[n-1] = 'a', 'z'
	return string(out)
}

// Customer returns the longest customer in cs: a name of
// invoice.MaxCustomerName characters and an address of at most
// invoice.MaxEmail bytes.
func (cs Charset) Customer() invoice.Customer {
	const domain = "@example.com"
	local := strings.Repeat(cs.email, (invoice.MaxEmail-len(domain))/len(cs.email))
	return invoice.Customer{Name: cs.Text(invoice.MaxCustomerName), Email: local + domain}
}

// Lines returns invoice.MaxLines lines of invoice.MaxDescription characters
// of cs, with amounts of the most digits whose invoice total still fits.
func (cs Charset) Lines() []invoice.LineInput {
	lines := make([]invoice.LineInput, invoice.MaxLines)
	for i := range lines {
		lines[i] = cs.Line()
	}
	return lines
}

// Line returns one line of Lines.
func (cs Charset) Line() invoice.LineInput {
	// 500 lines × (9e15 amount + 9e15 tax) = 9e18, just under MaxInt64.
	return invoice.LineInput{Description: cs.Text(invoice.MaxDescription), Quantity: invoice.MaxQuantity,
		UnitAmount: 9_000_000_000, TaxRateBPS: invoice.MaxTaxRateBPS}
}

// Metadata returns the largest metadata in cs the limits allow: keys of
// invoice.MaxMetadataKey characters with values of invoice.MaxMetadataValue,
// as many as fit invoice.MaxMetadataKeys and invoice.MaxMetadataBytes.
func (cs Charset) Metadata() map[string]string {
	m := map[string]string{}
	for i := range invoice.MaxMetadataKeys {
		key := fmt.Sprintf("%02d", i) + cs.Text(invoice.MaxMetadataKey-2)
		m[key] = cs.Text(invoice.MaxMetadataValue)
		if b, _ := json.Marshal(m); len(b) > invoice.MaxMetadataBytes {
			delete(m, key)
			break
		}
	}
	return m
}
