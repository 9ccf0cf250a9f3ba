package kernel_test

import (
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestValidText(t *testing.T) {
	for _, tt := range []struct {
		s    string
		max  int
		want bool
	}{
		{"Consulting", 10, true},
		{"Café", 4, true}, // characters, not bytes
		{"Consulting", 9, false},
		{"", 10, false},
		{" \t", 10, false},
		{"a\x00b", 10, false},
		{"a\nb", 10, false},
		{"a\u0085b", 10, false}, // C1 control
		{"\xff", 10, false},
		{strings.Repeat("x", 500), 500, true},
	} {
		if got := kernel.ValidText(tt.s, tt.max); got != tt.want {
			t.Errorf("ValidText(%q, %d) = %v, want %v", tt.s, tt.max, got, tt.want)
		}
	}
	if kernel.HasControl("plain text") || !kernel.HasControl("tab\there") {
		t.Error("HasControl misjudges plain text or a tab")
	}
}
