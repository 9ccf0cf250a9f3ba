package main

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysvc"
	"github.com/invoicing-dev/invoicing/internal/pgurl"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// config is every setting of the binary, read once from the environment:
// the process's own, and each context's Config as its Vars fill it. Each
// field names its variable and default in the README's table.
type config struct {
	HTTPAddr        string        // HTTP_ADDR
	LogLevel        slog.Level    // LOG_LEVEL
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT

	OTel map[string]string // the OTEL_* variables of tracing.Variables, as set

	NATSURL          string // NATS_URL
	NATSEmbeddedAddr string // NATS_EMBEDDED_ADDR
	NATSEmbeddedDir  string // NATS_EMBEDDED_DIR

	NotifyEnabled bool   // NOTIFY_ENABLED
	PprofAddr     string // PPROF_ADDR

	Invoicing invoicingsvc.Config // invoicingsvc.Vars
	Notify    notifysvc.Config    // notifysvc.Vars

	// traceExporter, set by tests only, receives the spans instead of
	// OTLP: tracing is then on whatever the OTEL_* variables say.
	traceExporter sdktrace.SpanExporter
}

// envVar describes one setting: its name, default and how to parse it into the
// config. envVars is the single list of variables the binary reads.
type envVar = envconfig.Var[config]

// envVars are the process's variables, then the invoicing context's and the
// notification context's.
var envVars = slices.Concat(processVars,
	contextVars(invoicingsvc.Vars, func(c *config) *invoicingsvc.Config { return &c.Invoicing }),
	contextVars(notifysvc.Vars, func(c *config) *notifysvc.Config { return &c.Notify }))

// contextVars returns a context's variables as the binary's, filling the
// context's configuration in field.
func contextVars[C any](vars []envconfig.Var[C], field func(*config) *C) []envVar {
	out := make([]envVar, len(vars))
	for i, v := range vars {
		out[i] = envVar{Name: v.Name, Default: v.Default, Usage: v.Usage, Set: func(c *config, val string) error { return v.Set(field(c), val) }}
	}
	return out
}

var processVars = []envVar{
	{Name: "HTTP_ADDR", Default: ":8080", Usage: "host:port the HTTP server listens on: the API, /healthz, /readyz and /metrics for `serve`; the last three for `relay`", Set: func(c *config, v string) error { c.HTTPAddr = v; return envconfig.ListenAddr(v) }},
	{Name: "LOG_LEVEL", Default: "info", Usage: "debug, info, warn or error; JSON lines on stdout (probes and scrapes log at debug), on stderr for the commands that answer and exit", Set: func(c *config, v string) error {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return errors.New("must be debug, info, warn or error")
		}
		return nil
	}},
	{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Default: "", Usage: "OpenTelemetry: OTLP/HTTP collector URL for traces (e.g. http://localhost:4318; /v1/traces is appended); empty: tracing off, at no cost. The SDK reads the other standard OTEL_* variables (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS, ...)", Set: otelVar("OTEL_EXPORTER_OTLP_ENDPOINT")},
	{Name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Default: "", Usage: "OpenTelemetry: full OTLP/HTTP URL for traces (…/v1/traces), instead of the one above", Set: otelVar("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")},
	{Name: "OTEL_EXPORTER_OTLP_PROTOCOL", Default: "", Usage: "OpenTelemetry: empty or http/protobuf, the only protocol this build speaks (no gRPC)", Set: otelVar("OTEL_EXPORTER_OTLP_PROTOCOL")},
	{Name: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", Default: "", Usage: "OpenTelemetry: as OTEL_EXPORTER_OTLP_PROTOCOL, for traces", Set: otelVar("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")},
	{Name: "OTEL_TRACES_EXPORTER", Default: "", Usage: "OpenTelemetry: empty or otlp (export when an endpoint is set), or none (tracing off)", Set: otelVar("OTEL_TRACES_EXPORTER")},
	{Name: "SHUTDOWN_TIMEOUT", Default: "15s", Usage: "on SIGTERM or SIGINT, how long in-flight requests and then the relay's drain may take, together", Set: envconfig.Duration(func(c *config) *time.Duration { return &c.ShutdownTimeout })},
	{Name: "NATS_URL", Default: "nats://127.0.0.1:4222", Usage: "NATS server URL (nats://, tls://, ws:// or wss://), or a comma-separated list of cluster URLs; `embedded`: a NATS server inside serve or relay, for development only (NATS_EMBEDDED_ADDR)", Set: func(c *config, v string) error {
		c.NATSURL = v
		switch {
		case v == embeddedNATS:
			return nil
		case strings.EqualFold(strings.TrimSpace(v), embeddedNATS):
			return fmt.Errorf("the embedded server is spelled `%s`, in lower case", embeddedNATS)
		}
		return invoicingnats.CheckURLs(v)
	}},
	{Name: "NATS_EMBEDDED_ADDR", Default: "127.0.0.1:4222", Usage: "with NATS_URL=embedded (development only, never production): where the NATS server inside serve or relay listens; other commands given NATS_URL=embedded, and the nats CLI, reach it there", Set: func(c *config, v string) error { c.NATSEmbeddedAddr = v; return envconfig.ListenAddr(v) }},
	{Name: "NATS_EMBEDDED_DIR", Default: "", Usage: "with NATS_URL=embedded: the JetStream store of that server, an absolute path; empty: invoicing/nats in the user's cache directory (~/.cache on Linux)", Set: func(c *config, v string) error {
		c.NATSEmbeddedDir = v
		if v != "" && !filepath.IsAbs(v) {
			return errors.New("must be empty or an absolute path")
		}
		return nil
	}},
	{Name: "NOTIFY_ENABLED", Default: "false", Usage: "run the notification consumer and its email workers inside serve (else run `invoicing notify`)", Set: envconfig.Bool(func(c *config) *bool { return &c.NotifyEnabled })},
	{Name: "PPROF_ADDR", Default: "", Usage: "if set (e.g. 127.0.0.1:6060), serve net/http/pprof there; never expose it publicly", Set: func(c *config, v string) error {
		c.PprofAddr = v
		if v == "" {
			return nil
		}
		return envconfig.ListenAddr(v)
	}},
}

// otelVar returns the setter of an OTEL_* variable of tracing.Variables: it
// keeps the value for tracing.FromEnv (see config.tracing) once tracing.Check
// accepts it.
func otelVar(name string) func(c *config, v string) error {
	return func(c *config, v string) error {
		if c.OTel == nil {
			c.OTel = map[string]string{}
		}
		c.OTel[name] = v
		return tracing.Check(name, v)
	}
}

// tracing returns the tracing configuration of the OTEL_* variables.
func (c config) tracing() tracing.Config {
	tc, _ := tracing.FromEnv(func(name string) string { return c.OTel[name] }) // checked by loadConfig
	return tc
}

// loadConfig reads every variable through getenv, applying defaults, and
// checks every value without connecting to anything. It returns one error
// naming every variable with an invalid value, passwords in URLs hidden.
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	var errs []error
	for _, v := range envVars {
		val := getenv(v.Name)
		if val == "" {
			val = v.Default
		}
		if err := v.Set(&c, val); err != nil {
			errs = append(errs, errors.New(envconfig.HidePasswords(fmt.Sprintf("%s=%q: %v", v.Name, val, err))))
		}
	}
	errs = append(errs, notifysvc.CheckVars(c.Notify)...)
	if len(errs) > 0 {
		return config{}, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	if getenv("DB_MAX_CONNS") == "" {
		// DB_MAX_CONNS's default must not override the pool size the URL
		// asks for.
		if n, ok := pgurl.MaxConns(c.Invoicing.DatabaseURL); ok {
			c.Invoicing.MaxConns = n
		}
	}
	// What the process shares with its contexts.
	c.Invoicing.ShutdownTimeout = c.ShutdownTimeout
	c.Notify.ShutdownTimeout = c.ShutdownTimeout
	c.Notify.DatabaseVar = "NOTIFY_DATABASE_URL"
	if c.Notify.DatabaseURL == "" {
		c.Notify.DatabaseURL, c.Notify.DatabaseVar = c.Invoicing.DatabaseURL, "DATABASE_URL"
	}
	return c, nil
}
