package invoicingsvc

import (
	"errors"
	"strings"
	"testing"
)

// TestParseCommandsRefuseWhatTheyDoNotUnderstand: every malformed apikey or
// outbox command line is a *UsageError, and the good ones parse.
func TestParseCommandsRefuseWhatTheyDoNotUnderstand(t *testing.T) {
	for _, args := range []string{"", "x", "create", "create --tenant", "create --tenant a b"} {
		if _, err := ParseAPIKeyCommand(strings.Fields(args)); !errors.As(err, new(*UsageError)) {
			t.Errorf("apikey %s: %v, want a *UsageError", args, err)
		}
	}
	if tenant, err := ParseAPIKeyCommand([]string{"create", "--tenant", "acme"}); tenant != "acme" || err != nil {
		t.Errorf("apikey create --tenant acme: %q, %v", tenant, err)
	}
	for _, args := range []string{"", "x", "retry", "retry zz", "failed x", "retry a b"} {
		if _, err := ParseOutboxCommand(strings.Fields(args)); !errors.As(err, new(*UsageError)) {
			t.Errorf("outbox %s: %v, want a *UsageError", args, err)
		}
	}
	id := "0190f2a4-6d5e-7c3b-9a1f-2b3c4d5e6f70"
	if c, err := ParseOutboxCommand([]string{"retry", id}); err != nil || c.EventID.String() != id {
		t.Errorf("outbox retry %s: %+v, %v", id, c, err)
	}
	if c, err := ParseOutboxCommand([]string{"retry", "--all"}); err != nil || c.Name != "retry" || c.EventID.String() != "00000000-0000-0000-0000-000000000000" {
		t.Errorf("outbox retry --all: %+v, %v", c, err)
	}
}
