package main

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

	Tracing tracing.Env       // tracing.Vars
	NATS    invoicingnats.Env // invoicingnats.Vars

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

// envVars are the process's variables, its tracing's and its NATS server's
// among them, then the invoicing context's and the notification context's.
var envVars = slices.Concat(logVars,
	contextVars(tracing.Vars, func(c *config) *tracing.Env { return &c.Tracing }),
	shutdownVars,
	contextVars(invoicingnats.Vars, func(c *config) *invoicingnats.Env { return &c.NATS }),
	processVars,
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

// The process's own variables, in the order envVars lists them.
var (
	logVars = []envVar{
		{Name: "HTTP_ADDR", Default: ":8080", Usage: "host:port the HTTP server listens on: the API, /healthz, /readyz and /metrics for `serve`; the last three for `relay`", Set: func(c *config, v string) error { c.HTTPAddr = v; return envconfig.ListenAddr(v) }},
		{Name: "LOG_LEVEL", Default: "info", Usage: "debug, info, warn or error; JSON lines on stdout (probes and scrapes log at debug), on stderr for the commands that answer and exit", Set: func(c *config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return errors.New("must be debug, info, warn or error")
			}
			return nil
		}},
	}
	shutdownVars = []envVar{
		{Name: "SHUTDOWN_TIMEOUT", Default: "15s", Usage: "on SIGTERM or SIGINT, how long in-flight requests and then the relay's drain may take, together", Set: envconfig.Duration(func(c *config) *time.Duration { return &c.ShutdownTimeout })},
	}
	processVars = []envVar{
		{Name: "NOTIFY_ENABLED", Default: "false", Usage: "run the notification consumer and its email workers inside serve (else run `invoicing notify`)", Set: envconfig.Bool(func(c *config) *bool { return &c.NotifyEnabled })},
		{Name: "PPROF_ADDR", Default: "", Usage: "if set (e.g. 127.0.0.1:6060), serve net/http/pprof there; never expose it publicly", Set: func(c *config, v string) error {
			c.PprofAddr = v
			if v == "" {
				return nil
			}
			return envconfig.ListenAddr(v)
		}},
	}
)

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
