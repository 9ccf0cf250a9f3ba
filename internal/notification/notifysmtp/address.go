package notifysmtp

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
	"golang.org/x/net/idna"
)

// hostnames converts a domain to its A-label form (punycode), refusing what
// is not a host name under IDNA2008 (RFC 5891): letters, digits and
// hyphens, no label starting or ending with a hyphen, none over 63 octets.
var hostnames = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true))

// recipient returns the address to mail for email, its domain as an
// A-label, and whether its local part is not ASCII (it then needs a server
// that offers SMTPUTF8). It returns an error for what is not a plain
// address at a public host name of two labels or more, the last not all
// digits: an address literal, "root@localhost" or a dotted IP address
// would reach an internal host, or nowhere. Invoicing refuses such
// addresses, but an event published before it did may carry one.
func recipient(email string) (addr string, utf8Local bool, err error) {
	a, err := mail.ParseAddress(email)
	if err != nil {
		return "", false, err
	}
	if a.Address != email || a.Name != "" {
		return "", false, fmt.Errorf("%q is not a plain address", email)
	}
	at := strings.LastIndexByte(email, '@')
	local, domain := email[:at], email[at+1:]
	if strings.HasPrefix(domain, "[") {
		return "", false, fmt.Errorf("%q is an address literal", domain)
	}
	host, err := hostnames.ToASCII(domain)
	if err != nil {
		return "", false, fmt.Errorf("%q is not a host name: %w", domain, err)
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 || strings.Trim(labels[len(labels)-1], "0123456789") == "" || strings.Contains(host, "..") {
		return "", false, fmt.Errorf("%q is not a public host name", domain)
	}
	for _, r := range local {
		if r >= utf8.RuneSelf {
			return local + "@" + host, true, nil
		}
	}
	return local + "@" + host, false, nil
}

// formatAddress returns a as the value of an address header field. A name
// that holds "=?" goes out as encoded words of its own: net/mail would only
// quote an ASCII one, and readers that decode encoded words even inside a
// quoted string would turn "=?utf-8?q?=0D=0A...?=" into a line break.
func formatAddress(a *mail.Address) string {
	if !strings.Contains(a.Name, "=?") {
		return a.String()
	}
	return encodeWords(a.Name) + " " + (&mail.Address{Address: a.Address}).String()
}

// encodeWords returns s as base64 encoded words (RFC 2047) of at most 72
// characters, split between runes, that decode to s.
func encodeWords(s string) string {
	// 45 octets make 60 base64 characters, 72 with "=?utf-8?b?" and "?=".
	const chunk = 45
	var words []string
	for s != "" {
		n := min(len(s), chunk)
		for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		if n == 0 { // not UTF-8: any cut decodes to the same octets
			n = min(len(s), chunk)
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}
