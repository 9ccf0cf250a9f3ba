package notifysvc

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifynats"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
	"github.com/invoicing-dev/invoicing/internal/pgurl"
)

// Vars are the environment variables of the notification context, in the
// order a program lists them: each fills its part of Config. DatabaseURL is
// left empty by an empty NOTIFY_DATABASE_URL, for the program to default.
var Vars = []envconfig.Var[Config]{
	{Name: "NOTIFY_DATABASE_URL", Default: "", Usage: "PostgreSQL URL of the notification context's tables (schema `notification`); empty: DATABASE_URL", Set: func(c *Config, v string) error {
		c.DatabaseURL = v
		if v == "" {
			return nil
		}
		return pgurl.Check(v)
	}},
	{Name: "SMTP_URL", Default: "", Usage: "SMTP server for the notification emails: smtp://host:port (STARTTLS when offered) or smtps://host:port, user:password@ to authenticate, no path or query; empty: emails disabled (tasks wait)", Set: func(c *Config, v string) error {
		c.SMTP.URL = v
		if v == "" {
			return nil
		}
		return notifysmtp.CheckURL(v)
	}},
	{Name: "MAIL_FROM", Default: "Invoicing <invoicing@localhost>", Usage: "sender of the notification emails", Set: func(c *Config, v string) error {
		c.SMTP.From = v
		if _, err := mail.ParseAddress(v); err != nil {
			return errors.New("must be an email address such as Billing <billing@example.com>")
		}
		return nil
	}},
	{Name: "MAIL_DOMAIN", Default: "invoicing.localhost", Usage: "right-hand side of the emails' Message-ID <event-id.reaction@MAIL_DOMAIN>", Set: func(c *Config, v string) error {
		c.SMTP.Domain = v
		if strings.ContainsAny(v, " <>@\r\n") || v == "" {
			return errors.New("must be a domain name")
		}
		return nil
	}},
	{Name: "NOTIFY_WORKERS", Default: "10", Usage: "emails sent at once", Set: envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.Workers })},
	// After NOTIFY_WORKERS, which it is checked against.
	{Name: "NOTIFY_TENANT_SHARE", Default: "", Usage: "email workers one tenant's emails (receipts and reminders) keep at least while other tenants' run (a tenant alone takes every worker), and how many of its receipts of the last second or so go before other tenants' fresh ones; from 1 to NOTIFY_WORKERS; empty: a fifth of NOTIFY_WORKERS, at least 1 (2 of the default 10)",
		Set: shareVar("NOTIFY_WORKERS", func(c *Config) (int, *int) { return c.Queue.Workers, &c.Queue.PerTenant })},
	{Name: "NOTIFY_SEND_TIMEOUT", Default: "30s", Usage: "bound on one attempt to send an email; one left running by a process that died is retried after twice this (+ up to 30s)", Set: func(c *Config, v string) error {
		err := envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.TaskTimeout })(c, v)
		c.SMTP.Timeout = c.Queue.TaskTimeout // the task's attempt is the send
		return err
	}},
	{Name: "NOTIFY_MAX_ATTEMPTS", Default: "25", Usage: "attempts of an email before its task is discarded (`invoicing notify failed`)", Set: envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.MaxAttempts })},
	{Name: "NOTIFY_RETRY_BASE", Default: "1s", Usage: "wait after an email's first failed attempt; it doubles with each failure", Set: envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.RetryBase })},
	{Name: "NOTIFY_RETRY_MAX", Default: "1h", Usage: "longest wait between two attempts of an email", Set: envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.RetryMax })},
	{Name: "NOTIFY_INBOX_RETENTION", Default: "720h", Usage: fmt.Sprintf("how long the inbox remembers handled event ids, at least the consumers' redelivery window (%s: a later redelivery would be handled again); replays may not reach further back", notifynats.Config{}.RedeliveryWindow()), Set: func(c *Config, v string) error {
		window := notifynats.Config{}.RedeliveryWindow()
		d, err := time.ParseDuration(v)
		if err != nil || d < window {
			return fmt.Errorf("must be a duration of at least %s (the JetStream consumers' redelivery window) such as 720h", window)
		}
		c.Queue.InboxRetention = d
		return nil
	}},
	{Name: "REMINDER_SCHEDULE", Default: "3d,7d,14d", Usage: "when an overdue invoice's payment reminders are emailed, counted from when it became overdue: Go durations or whole days (3d), increasing, at most 20; none: no reminders", Set: func(c *Config, v string) error {
		s, err := notification.ParseSchedule(v)
		c.ReminderSchedule = s
		return err
	}},
	{Name: "WEBHOOKS_ENABLED", Default: "false", Usage: "serve /v1/webhook_endpoints (needs the notification schema: `invoicing migrate up`) and deliver webhooks from notify (or serve with NOTIFY_ENABLED)", Set: envconfig.Bool(func(c *Config) *bool { return &c.Webhooks })},
	{Name: "WEBHOOK_TIMEOUT", Default: "15s", Usage: "bound on one webhook attempt, connection to response, from 1s to 2m; longer is a failure", Set: envconfig.BoundedDuration(time.Second, 2*time.Minute, func(c *Config) *time.Duration { return &c.WebhookTimeout })},
	{Name: "WEBHOOK_RETRY_SCHEDULE", Default: "5s,5m,30m,2h,5h,10h,10h", Usage: "waits between a webhook delivery's attempts, 1 to 50 of them, each from 100ms to 168h; after the last the delivery has failed", Set: func(c *Config, v string) error {
		s, err := webhook.ParseSchedule(v)
		c.Queue.Webhooks.Schedule = s
		return err
	}},
	{Name: "WEBHOOK_DISABLE_AFTER", Default: "120h", Usage: "an endpoint whose attempts all fail for this long is disabled", Set: envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.Webhooks.DisableAfter })},
	{Name: "WEBHOOK_SECRET_OVERLAP", Default: "24h", Usage: "after a secret rotation, how long the old secret signs too", Set: envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.Webhooks.SecretOverlap })},
	{Name: "WEBHOOK_ALLOW_PRIVATE_URLS", Default: "false", Usage: "allow http and loopback/private addresses as webhook URLs (development and tests only: it opens SSRF)", Set: func(c *Config, v string) error {
		c.WebhookPolicy.PrivateHint = privateURLHint
		return envconfig.Bool(func(c *Config) *bool { return &c.WebhookPolicy.AllowPrivate })(c, v)
	}},
	{Name: "WEBHOOK_WORKERS", Default: "50", Usage: "webhook attempts at once, in all", Set: envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.Webhooks.Workers })},
	{Name: "WEBHOOK_ENDPOINT_CONCURRENCY", Default: "4", Usage: "webhook attempts at once to one endpoint: a slow endpoint holds at most this many workers", Set: envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.Webhooks.PerEndpoint })},
	// After WEBHOOK_WORKERS, which it is checked against.
	{Name: "WEBHOOK_TENANT_CONCURRENCY", Default: "", Usage: "webhook attempts at once to one tenant's endpoints, together: however many slow endpoints a tenant has, it holds at most this many workers; from 1 to WEBHOOK_WORKERS (equal: no share, for a single tenant); empty: a fifth of WEBHOOK_WORKERS, at least 1 (10 of the default 50)", Set: shareVar("WEBHOOK_WORKERS", func(c *Config) (int, *int) { return c.Queue.Webhooks.Workers, &c.Queue.Webhooks.PerTenant })},
	{Name: "WEBHOOK_MAX_ENDPOINTS", Default: "16", Usage: "webhook endpoints a tenant may register, disabled ones included; one more is refused (409 webhook_endpoint_limit)", Set: envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.Webhooks.MaxEndpoints })},
}

// CheckVars returns the errors of settings Vars accepted one by one but not
// together, each naming its variable; nil if there are none.
func CheckVars(c Config) []error {
	w := c.Queue.Webhooks
	if w.Workers > 0 && w.PerEndpoint > w.Workers {
		// Workers one endpoint could never get: the setting would say more
		// than the service does.
		return []error{fmt.Errorf("WEBHOOK_ENDPOINT_CONCURRENCY=%q: must be a whole number from 1 to %d (WEBHOOK_WORKERS)",
			strconv.Itoa(w.PerEndpoint), w.Workers)}
	}
	return nil
}

// shareVar parses a tenant's share of a pool of workers (field returns
// the pool's size, parsed before, named workersVar, and the share) against
// the pool: a share above the pool would say more than the service does,
// and let one tenant hold every worker again. Empty is a fifth of the
// pool, at least 1.
func shareVar(workersVar string, field func(*Config) (int, *int)) func(*Config, string) error {
	return func(c *Config, v string) error {
		workers, share := field(c)
		if workers == 0 {
			return nil // the pool's variable is invalid, and says so
		}
		if v == "" {
			*share = max(1, workers/5)
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > workers {
			return fmt.Errorf("must be a whole number from 1 to %s (%d), or empty", workersVar, workers)
		}
		*share = n
		return nil
	}
}

// privateURLHint ends the refusal of a webhook URL that only
// WEBHOOK_ALLOW_PRIVATE_URLS would admit.
const privateURLHint = "for development against a local receiver, the server can allow http and private addresses with WEBHOOK_ALLOW_PRIVATE_URLS=true"
