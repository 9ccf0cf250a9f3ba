package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysvc"
)

// command is one subcommand's help: how it is called, what it does, and the
// environment variables it reads (names in envVars).
type command = envconfig.Command

// Variable groups several commands read.
var (
	dbEnv    = []string{"DATABASE_URL", "LOG_LEVEL"}
	natsEnv  = []string{"NATS_URL", "NATS_DUPLICATE_WINDOW", "NATS_STREAM_REPLICAS", "NATS_ATOMIC_BATCHES"}
	relayEnv = []string{"RELAY_POLL_INTERVAL", "RELAY_BATCH_SIZE", "RELAY_MAX_ATTEMPTS", "OUTBOX_RETENTION"}
	runEnv   = []string{"HTTP_ADDR", "SHUTDOWN_TIMEOUT", "DB_MAX_CONNS", "PPROF_ADDR"}
	embedEnv = []string{"NATS_EMBEDDED_ADDR", "NATS_EMBEDDED_DIR"} // NATS_URL=embedded
	otelEnv  = []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_EXPORTER"}
	notifEnv = envconfig.Names(notifysvc.Vars)
)

// commands is every subcommand, in the order the usage lists them.
var commands = []command{
	{Name: "serve", Synopsis: []string{"serve\trun the HTTP API (and the outbox relay unless RELAY_ENABLED=false)"},
		About: `Serves the API, /healthz, /readyz and /metrics on HTTP_ADDR until SIGTERM or SIGINT, then
finishes the requests in flight and drains the relay within SHUTDOWN_TIMEOUT. The relay runs
inside unless RELAY_ENABLED=false (several replicas may run: one leads); with NOTIFY_ENABLED=true
the notification consumer and its workers run inside too, reading the notify variables
(invoicing help notify). Refuses to start on a schema not yet migrated or dirty (invoicing migrate
status); on one a later release migrated it starts and warns, as during a rolling deploy.`,
		Env: slices.Concat(runEnv, dbEnv, []string{"API_KEY_CACHE_TTL"}, natsEnv, embedEnv, []string{"RELAY_ENABLED"}, relayEnv,
			[]string{"NOTIFY_ENABLED", "WEBHOOKS_ENABLED", "NOTIFY_DATABASE_URL", "WEBHOOK_ALLOW_PRIVATE_URLS", "WEBHOOK_SECRET_OVERLAP",
				"WEBHOOK_MAX_ENDPOINTS", "OVERDUE_INTERVAL", "OVERDUE_BATCH_SIZE"}, otelEnv)},
	{Name: "relay", Synopsis: []string{"relay\trun the outbox relay alone"},
		About: `Publishes committed outbox events to JetStream until SIGTERM or SIGINT, then drains within
SHUTDOWN_TIMEOUT. Several may run at once; one leads. Serves /healthz, /readyz and /metrics (no API)
on HTTP_ADDR.`,
		Env: slices.Concat(runEnv, dbEnv, natsEnv, embedEnv, relayEnv, otelEnv)},
	{Name: "migrate", Synopsis: []string{
		"migrate up\tapply every pending migration, the notification schema's too",
		"migrate down N\trevert the last N migrations of the invoicing schema",
		"migrate down --all\trevert every migration of the invoicing schema (its data is lost)",
		"migrate status\tshow each schema's version, dirty flag, latest version and pending count",
		"migrate version\tprint the invoicing schema's version"},
		About: `Migrates the database of DATABASE_URL; the notification context's schema (notification) lives
in NOTIFY_DATABASE_URL, by default the same database. down never touches the notification schema,
and never runs without a count or --all. A database that does not exist yet is named, with the
createdb command that creates it.`,
		Env: []string{"DATABASE_URL", "NOTIFY_DATABASE_URL"}},
	invoicingsvc.APIKeyHelp,
	invoicingsvc.OutboxHelp,
	{Name: "notify", Synopsis: []string{
		"notify\trun the notification consumer and its email and webhook workers alone",
		"notify failed\tlist email tasks that failed for good",
		"notify retry TASK_ID|--all\tre-queue failed email tasks",
		"notify replay --since TIME\tre-read the stream from TIME (RFC 3339, or 1h back) through the inbox",
		"notify reminders [--invoice ID]\tlist the payment reminder processes: state, next reminder and when"},
		About: `The notification context: consumes the INVOICING stream into its inbox and sends the emails
(SMTP_URL) and, with WEBHOOKS_ENABLED=true, the webhooks. Serves /healthz, /readyz and /metrics on
HTTP_ADDR. Its tables live in NOTIFY_DATABASE_URL (default DATABASE_URL), schema notification.`,
		Env: slices.Concat([]string{"HTTP_ADDR", "SHUTDOWN_TIMEOUT", "PPROF_ADDR"}, dbEnv, []string{"NATS_URL", "NATS_EMBEDDED_ADDR"}, notifEnv, otelEnv)},
	invoicingsvc.OverdueHelp,
	{Name: "dev", Synopsis: []string{"dev [--smtp ADDR] [--mail ADDR] [--tenant NAME]\tthe whole system in one process, for development only",
		"dev mail [--smtp ADDR] [--mail ADDR]\tthe development mail sink alone, for serve and notify run by hand"},
		About: `Creates the database DATABASE_URL names if missing, migrates both schemas, creates the demo
tenant (default demo; its API key is printed at its first start only) or reuses it, and runs serve
with the relay, notify with emails and webhooks (private URLs allowed), an embedded NATS server on
NATS_EMBEDDED_ADDR (NATS_URL is not read) and a mail sink: SMTP on --smtp (127.0.0.1:1025), its
messages on a page at --mail (127.0.0.1:8025). Prints the URLs and a curl line once the API
answers; SIGINT or SIGTERM stops it. A port in use fails start-up at once, naming its variable or
flag. dev mail runs the sink alone (SMTP_URL=smtp://127.0.0.1:1025 for notify). Never for production.`,
		Env: slices.Concat([]string{"HTTP_ADDR", "NATS_EMBEDDED_ADDR", "NATS_EMBEDDED_DIR", "PPROF_ADDR"}, dbEnv,
			[]string{"NOTIFY_DATABASE_URL", "MAIL_FROM", "MAIL_DOMAIN"})},
	{Name: "version", Synopsis: []string{"version\tprint the module version and the VCS revision it was built from"},
		About: `Prints what debug.ReadBuildInfo knows: the module and its version, the VCS revision, its time
and whether the tree had uncommitted changes, and the Go version. go run and -buildvcs=false
leave out the revision.`},
	{Name: "help", Synopsis: []string{
		"help [COMMAND]\tthis list, or a command's help (also: invoicing COMMAND -h)",
		"help env\tevery environment variable, its default and meaning"},
		About: `Help reads no configuration: it works whatever the environment holds.`},
}

// findCommand returns the command called name, or false.
func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.Name == name {
			return c, true
		}
	}
	return command{}, false
}

// usage is the list of commands printed by `invoicing help` and after a
// command line that could not be understood.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: invoicing <command> [arguments]\n\ncommands:\n")
	for _, c := range commands {
		envconfig.WriteSynopsis(&b, c)
	}
	b.WriteString(`
Run 'invoicing help COMMAND' (or 'invoicing COMMAND -h') for a command's details and the
environment variables it reads. Configuration comes from the environment only:
'invoicing help env' lists every variable, as does the Configuration table of README.md.
`)
	return b.String()
}

// help writes the help of `invoicing help args...` to w: the usage, a
// command's help, or every variable. It returns a usage error for an
// unknown topic.
func help(w io.Writer, args []string) error {
	switch {
	case len(args) == 0:
		_, err := io.WriteString(w, usage())
		return err
	case len(args) == 1 && args[0] == "env":
		var b strings.Builder
		b.WriteString("Environment variables (all optional; README.md's Configuration table says the same):\n\n")
		for _, v := range helpDocs() {
			envconfig.WriteDoc(&b, v)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	c, ok := findCommand(args[0])
	if len(args) != 1 || !ok {
		return fmt.Errorf("%w: no help for %q; commands: %s, env", errUsage, strings.Join(args, " "), commandNames())
	}
	return envconfig.WriteHelp(w, "invoicing", c, helpDocs())
}

// helpDocs returns envVars as their help describes them.
func helpDocs() []envconfig.Doc {
	docs := make([]envconfig.Doc, len(envVars))
	for i, v := range envVars {
		docs[i] = envconfig.Doc{Name: v.Name, Default: v.Default, Usage: v.Usage}
	}
	return docs
}

// lookupVar returns the envVars entry called name, or false.
func lookupVar(name string) (envVar, bool) {
	for _, v := range envVars {
		if v.Name == name {
			return v, true
		}
	}
	return envVar{}, false
}

// commandNames returns the commands' names, comma-separated.
func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// wantsHelp reports whether args (a command's arguments) ask for its help.
func wantsHelp(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "--help" || a == "-help" })
}
