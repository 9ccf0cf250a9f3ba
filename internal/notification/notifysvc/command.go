package notifysvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Command is one of the notification context's operator commands, parsed
// from its words: none (run the consumer and workers), "failed", "retry
// TASK_ID|--all", "replay --since TIME" or "reminders [--invoice ID]".
type Command struct {
	Name      string    // "", "failed", "retry", "replay" or "reminders"
	TaskID    int64     // retry's task; 0: every failed task
	Since     time.Time // replay's start
	InvoiceID string    // reminders' invoice; empty: every process
}

// Consumes reports whether c needs the service to consume (Config.Consume).
func (c Command) Consumes() bool { return c.Name == "" || c.Name == "replay" }

// UsageError is a command line ParseCommand could not understand; Reason
// says what is wrong.
type UsageError struct{ Reason string }

func (e *UsageError) Error() string { return e.Reason }

// ParseCommand parses args at now: "replay --since TIME" takes an RFC 3339
// time or a duration back from now, not before the inbox's horizon
// (inboxRetention back). It returns a *UsageError for words it does not
// understand, another error for a time beyond the horizon.
func ParseCommand(args []string, now time.Time, inboxRetention time.Duration) (Command, error) {
	const usage = "notify takes: (nothing) | failed | retry TASK_ID|--all | replay --since TIME | reminders [--invoice ID]"
	if len(args) == 0 {
		return Command{}, nil
	}
	c := Command{Name: args[0]}
	switch {
	case args[0] == "failed" && len(args) == 1, args[0] == "reminders" && len(args) == 1:
	case args[0] == "reminders" && len(args) == 3 && args[1] == "--invoice":
		c.InvoiceID = args[2]
	case args[0] == "retry" && len(args) == 2 && args[1] == "--all":
	case args[0] == "retry" && len(args) == 2:
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || id < 1 {
			return c, &UsageError{fmt.Sprintf("%q is not a task id", args[1])}
		}
		c.TaskID = id
	case args[0] == "replay" && len(args) == 3 && args[1] == "--since":
		since, err := parseSince(args[2], now)
		if err != nil {
			return c, &UsageError{fmt.Sprintf("--since %q: %v", args[2], err)}
		}
		if horizon := now.Add(-inboxRetention); since.Before(horizon) {
			return c, fmt.Errorf("--since %s is before the inbox's horizon %s (NOTIFY_INBOX_RETENTION): events handled then are forgotten and would be sent again", since.Format(time.RFC3339), horizon.Format(time.RFC3339))
		}
		c.Since = since
	default:
		return c, &UsageError{usage}
	}
	return c, nil
}

// parseSince reads TIME as RFC 3339 or as a duration back from now ("1h").
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want an RFC 3339 time (2026-11-30T10:00:00Z) or a duration back from now (1h)")
	}
	return t, nil
}

// RunCommand runs the one-shot command c ("failed", "retry", "reminders"
// or "replay", the last on a connected service) and says what it did on w. It returns
// the first error of the command or of w.
func (s *Service) RunCommand(ctx context.Context, c Command, w io.Writer) error {
	switch {
	case c.Name == "failed":
		return s.WriteFailedTasks(ctx, w)
	case c.Name == "reminders":
		return s.WriteReminders(ctx, c.InvoiceID, w)
	case c.Name == "replay":
		r, err := s.Replay(ctx, c.Since)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "replayed %d events since %s: %d new (their emails are queued), %d already handled\n",
			r.Read, c.Since.UTC().Format(time.RFC3339), r.Fresh, r.Read-r.Fresh)
		return err
	case c.TaskID == 0:
		n, err := s.RetryAllTasks(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "re-queued %d failed tasks\n", n)
		return err
	}
	if err := s.RetryTask(ctx, c.TaskID); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "re-queued task %d\n", c.TaskID)
	return err
}
