package invoice

import (
	"net/mail"
	"strings"

	"golang.org/x/net/idna"
)

// hostnames converts a domain to its A-label form (punycode), refusing what
// is not a host name under IDNA2008 (RFC 5891): letters, digits and
// hyphens, no label starting or ending with a hyphen, none over 63 octets.
var hostnames = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true))

// validEmail reports whether s is a plain address (no display name, no
// comment) of at most MaxEmail octets that internet mail can deliver: its
// domain is a public host name of at least two labels, the last not all
// digits. An address literal ("a@[127.0.0.1]"), a single label
// ("root@localhost") or a dotted IP address would reach an internal host,
// or nowhere. A non-ASCII local part is accepted: it needs a server that
// offers SMTPUTF8, which only the sender can know.
func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > MaxEmail {
		return false
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	if strings.HasPrefix(domain, "[") {
		return false
	}
	host, err := hostnames.ToASCII(domain)
	if err != nil {
		return false
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 || strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return false
	}
	for _, l := range labels {
		if l == "" {
			return false
		}
	}
	return true
}
