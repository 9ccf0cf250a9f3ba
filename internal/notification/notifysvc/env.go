package notifysvc

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/notification/notifynats"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// Vars are the environment variables of the notification context, in the
// order a program lists them: each fills its part of Config. DatabaseURL is
// left empty by an empty NOTIFY_DATABASE_URL, for the program to default.
var Vars = []envconfig.Var[Config]{
	{"NOTIFY_DATABASE_URL", "", "PostgreSQL URL of the notification context's tables (schema `notification`); empty: DATABASE_URL", func(c *Config, v string) error {
		c.DatabaseURL = v
		if v == "" {
			return nil
		}
		return notifypg.CheckURL(v)
	}},
	{"SMTP_URL", "", "SMTP server for the notification emails: smtp://host:port (STARTTLS when offered) or smtps://host:port, user:password@ to authenticate, no path or query; empty: emails disabled (tasks wait)", func(c *Config, v string) error {
		c.SMTP.URL = v
		if v == "" {
			return nil
		}
		return notifysmtp.CheckURL(v)
	}},
	{"MAIL_FROM", "Invoicing <invoicing@localhost>", "sender of the notification emails", func(c *Config, v string) error {
		c.SMTP.From = v
		if _, err := mail.ParseAddress(v); err != nil {
			return errors.New("must be an email address such as Billing <billing@example.com>")
		}
		return nil
	}},
	{"MAIL_DOMAIN", "invoicing.localhost", "right-hand side of the emails' Message-ID <event-id.reaction@MAIL_DOMAIN>", func(c *Config, v string) error {
		c.SMTP.Domain = v
		if strings.ContainsAny(v, " <>@\r\n") || v == "" {
			return errors.New("must be a domain name")
		}
		return nil
	}},
	{"NOTIFY_WORKERS", "10", "emails sent at once", envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.Workers })},
	{"NOTIFY_SEND_TIMEOUT", "30s", "bound on one attempt to send an email; one left running by a process that died is retried after twice this (+ up to 30s)", func(c *Config, v string) error {
		err := envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.TaskTimeout })(c, v)
		c.SMTP.Timeout = c.Queue.TaskTimeout // the task's attempt is the send
		return err
	}},
	{"NOTIFY_MAX_ATTEMPTS", "25", "attempts of an email before its task is discarded (`invoicing notify failed`)", envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.MaxAttempts })},
	{"NOTIFY_RETRY_BASE", "1s", "wait after an email's first failed attempt; it doubles with each failure", envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.RetryBase })},
	{"NOTIFY_RETRY_MAX", "1h", "longest wait between two attempts of an email", envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.RetryMax })},
	{"NOTIFY_INBOX_RETENTION", "720h", fmt.Sprintf("how long the inbox remembers handled event ids, at least the consumers' redelivery window (%s: a later redelivery would be handled again); replays may not reach further back", notifynats.Config{}.RedeliveryWindow()), func(c *Config, v string) error {
		window := notifynats.Config{}.RedeliveryWindow()
		d, err := time.ParseDuration(v)
		if err != nil || d < window {
			return fmt.Errorf("must be a duration of at least %s (the JetStream consumers' redelivery window) such as 720h", window)
		}
		c.Queue.InboxRetention = d
		return nil
	}},
	{"WEBHOOKS_ENABLED", "false", "serve /v1/webhook_endpoints (needs the notification schema: `invoicing migrate up`) and deliver webhooks from notify (or serve with NOTIFY_ENABLED)", envconfig.Bool(func(c *Config) *bool { return &c.Webhooks })},
	{"WEBHOOK_TIMEOUT", "15s", "bound on one webhook attempt, connection to response, from 1s to 2m; longer is a failure", envconfig.BoundedDuration(time.Second, 2*time.Minute, func(c *Config) *time.Duration { return &c.WebhookTimeout })},
	{"WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h", "waits between a webhook delivery's attempts, 1 to 50 of them, each from 100ms to 168h; after the last the delivery has failed", func(c *Config, v string) error {
		s, err := webhook.ParseSchedule(v)
		c.Queue.Webhooks.Schedule = s
		return err
	}},
	{"WEBHOOK_DISABLE_AFTER", "120h", "an endpoint whose attempts all fail for this long is disabled", envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.Webhooks.DisableAfter })},
	{"WEBHOOK_SECRET_OVERLAP", "24h", "after a secret rotation, how long the old secret signs too", envconfig.Duration(func(c *Config) *time.Duration { return &c.Queue.Webhooks.SecretOverlap })},
	{"WEBHOOK_ALLOW_PRIVATE_URLS", "false", "allow http and loopback/private addresses as webhook URLs (development and tests only: it opens SSRF)", envconfig.Bool(func(c *Config) *bool { return &c.WebhookPolicy.AllowPrivate })},
	{"WEBHOOK_WORKERS", "50", "webhook attempts at once, in all", envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.Webhooks.Workers })},
	{"WEBHOOK_ENDPOINT_CONCURRENCY", "4", "webhook attempts at once to one endpoint: a slow endpoint holds at most this many workers", envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.Webhooks.PerEndpoint })},
	// After WEBHOOK_WORKERS, which it is checked against.
	{"WEBHOOK_TENANT_CONCURRENCY", "", "webhook attempts at once to one tenant's endpoints, together: however many slow endpoints a tenant has, it holds at most this many workers; from 1 to WEBHOOK_WORKERS (equal: no share, for a single tenant); empty: a fifth of WEBHOOK_WORKERS, at least 1 (10 of the default 50)", tenantConcurrencyVar},
	{"WEBHOOK_MAX_ENDPOINTS", "16", "webhook endpoints a tenant may register, disabled ones included; one more is refused (409 webhook_endpoint_limit)", envconfig.Int(1, 1000, func(c *Config) *int { return &c.Queue.Webhooks.MaxEndpoints })},
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

// tenantConcurrencyVar parses WEBHOOK_TENANT_CONCURRENCY against the
// WEBHOOK_WORKERS parsed before it: a share above the pool would let one
// tenant's slow receivers hold every worker again.
func tenantConcurrencyVar(c *Config, v string) error {
	workers := c.Queue.Webhooks.Workers
	if workers == 0 {
		return nil // WEBHOOK_WORKERS is invalid, and says so
	}
	if v == "" {
		c.Queue.Webhooks.PerTenant = max(1, workers/5)
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > workers {
		return fmt.Errorf("must be a whole number from 1 to WEBHOOK_WORKERS (%d), or empty", workers)
	}
	c.Queue.Webhooks.PerTenant = n
	return nil
}
