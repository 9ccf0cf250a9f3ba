package notifysvc

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/notification/notifynats"
)

// Check is one readiness check of the service: Run returns nil when the
// part it names is ready, else an error, with an *Unready in its chain when
// the reason is known.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Unready is a check failure whose Reason is safe to show anyone: short,
// with no address, credential or error text of a dependency, which Err
// holds (nil: none).
type Unready struct {
	Reason string
	Err    error
}

// Error returns the reason.
func (u *Unready) Error() string { return u.Reason }

// Unwrap returns the dependency's error.
func (u *Unready) Unwrap() error { return u.Err }

// Checks returns the readiness checks of a consuming service: its database
// and schema, the consumers on NATS, and the SMTP server (failing while
// no mail server is set: the process then sends nothing).
func (s *Service) Checks() []Check {
	unready := func(reason string, err error) error {
		if err == nil {
			return nil
		}
		return &Unready{Reason: reason, Err: err}
	}
	return []Check{
		{Name: "database", Run: func(ctx context.Context) error {
			return unready("unreachable", s.pool.Ping(ctx))
		}},
		{Name: "schema", Run: func(ctx context.Context) error {
			return unready("notification schema not migrated: run `invoicing migrate up`", SchemaReady(ctx, s.pool))
		}},
		{Name: "nats", Run: func(ctx context.Context) error {
			err := s.cons.Ready(ctx)
			switch {
			case errors.Is(err, notifynats.ErrNotConnected):
				return unready("not connected", err)
			case errors.Is(err, notifynats.ErrNoConsumer):
				return unready("consumer "+s.cons.Durable()+" not found", err)
			}
			return err
		}},
		{Name: "webhooks", Run: func(ctx context.Context) error {
			if s.hooks == nil {
				return nil // webhooks off: nothing to check
			}
			return unready("consumer "+s.hooks.Durable()+" not ready", s.hooks.Ready(ctx))
		}},
		{Name: "smtp", Run: func(ctx context.Context) error {
			if s.mailer == nil {
				return &Unready{Reason: "emails disabled: SMTP_URL not set"}
			}
			return unready("unreachable", s.mailer.Ping(ctx))
		}},
	}
}
