package kernel

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidText reports whether s is non-blank valid UTF-8 of at most max
// characters with no control characters: the rule of every short text an
// aggregate keeps (a description, a number, a reason).
func ValidText(s string, max int) bool {
	return strings.TrimSpace(s) != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= max && !HasControl(s)
}

// HasControl reports whether s holds a control character (Unicode Cc).
func HasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }
