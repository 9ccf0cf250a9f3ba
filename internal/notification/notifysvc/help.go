package notifysvc

import (
	"slices"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
)

// Help is the help of the notify commands (Command), for a program's
// command line. A program that traces adds its tracing variables.
var Help = envconfig.Command{
	Name: "notify", Synopsis: []string{
		"notify\trun the notification consumer and its email and webhook workers alone",
		"notify failed\tlist email tasks that failed for good",
		"notify retry TASK_ID|--all\tre-queue failed email tasks",
		"notify replay --since TIME\tre-read the stream from TIME (RFC 3339, or 1h back) through the inbox",
		"notify reminders [--invoice ID]\tlist the payment reminder processes: state, next reminder and when"},
	About: `The notification context: consumes the INVOICING stream into its inbox and sends the emails
(SMTP_URL) and, with WEBHOOKS_ENABLED=true, the webhooks. Serves /healthz, /readyz and /metrics on
HTTP_ADDR. Its tables live in NOTIFY_DATABASE_URL (default DATABASE_URL), schema notification.`,
	Env: slices.Concat([]string{"HTTP_ADDR", "SHUTDOWN_TIMEOUT", "PPROF_ADDR", "DATABASE_URL", "LOG_LEVEL", "NATS_URL", "NATS_EMBEDDED_ADDR"},
		envconfig.Names(Vars)),
}
