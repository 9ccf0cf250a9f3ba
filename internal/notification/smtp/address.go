package smtp

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
)

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
