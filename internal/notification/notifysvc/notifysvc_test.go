package notifysvc

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestNewRefusesAnIncompleteConfig: a consuming service needs the stream it
// reads, and the webhook subjects when webhooks are on; New says which
// setting is missing before it connects to anything.
func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	deps := Deps{Logger: slog.New(slog.DiscardHandler)}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "DatabaseURL"},
		{Config{DatabaseURL: "postgres://x", Consume: true}, "Stream"},
		{Config{DatabaseURL: "postgres://x", Consume: true, Webhooks: true, Stream: "S"}, "WebhookSubjects"},
	} {
		if _, err := New(context.Background(), deps, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): %v, want an error naming %s", c.cfg, err, c.want)
		}
	}
}

// TestUnreadyKeepsTheCause: the reason is what readiness shows, the cause
// stays reachable for the log.
func TestUnreadyKeepsTheCause(t *testing.T) {
	cause := context.DeadlineExceeded
	u := &Unready{Reason: "unreachable", Err: cause}
	if u.Error() != "unreachable" || u.Unwrap() != cause {
		t.Errorf("Unready %q unwraps to %v", u.Error(), u.Unwrap())
	}
}
