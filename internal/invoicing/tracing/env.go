package tracing

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
)

// Env is what the OTEL_* variables of Vars say, each checked: whether and
// where spans are exported.
type Env struct{ endpoint, tracesEndpoint, exporter string }

// Vars are the OTEL_* variables this package reads, in the order a program
// lists them; the OTel SDK reads the other standard ones itself
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER,
// OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*, ...). Each refuses a value this
// build cannot honour.
var Vars = []envconfig.Var[Env]{
	{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Default: "", Usage: "OpenTelemetry: OTLP/HTTP collector URL for traces (e.g. http://localhost:4318; /v1/traces is appended); empty: tracing off, at no cost. The SDK reads the other standard OTEL_* variables (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS, ...)", Set: func(e *Env, v string) error {
		e.endpoint = v
		return checkEndpoint(v)
	}},
	{Name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Default: "", Usage: "OpenTelemetry: full OTLP/HTTP URL for traces (…/v1/traces), instead of the one above", Set: func(e *Env, v string) error {
		e.tracesEndpoint = v
		return checkEndpoint(v)
	}},
	{Name: "OTEL_EXPORTER_OTLP_PROTOCOL", Default: "", Usage: "OpenTelemetry: empty or http/protobuf, the only protocol this build speaks (no gRPC)", Set: checkProtocol},
	{Name: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", Default: "", Usage: "OpenTelemetry: as OTEL_EXPORTER_OTLP_PROTOCOL, for traces", Set: checkProtocol},
	{Name: "OTEL_TRACES_EXPORTER", Default: "", Usage: "OpenTelemetry: empty or otlp (export when an endpoint is set), or none (tracing off)", Set: func(e *Env, v string) error {
		e.exporter = v
		if v != "" && v != "otlp" && v != "none" {
			return errors.New("must be otlp or none")
		}
		return nil
	}},
}

// checkEndpoint refuses an endpoint that is set but not an http(s) URL.
func checkEndpoint(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http or https URL such as http://localhost:4318")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("port %q must be a number from 1 to 65535", p)
		}
	}
	return nil
}

// checkProtocol refuses a protocol other than http/protobuf: the exporter
// speaks only OTLP over HTTP.
func checkProtocol(_ *Env, v string) error {
	if v != "" && v != "http/protobuf" {
		return errors.New("must be http/protobuf: this build sends OTLP over HTTP (port 4318), not gRPC")
	}
	return nil
}

// Config returns the configuration e asks for: tracing is on when an OTLP
// endpoint is set, unless OTEL_TRACES_EXPORTER=none; the traces endpoint
// wins over the general one.
func (e Env) Config() Config {
	if e.exporter == "none" {
		return Config{}
	}
	return Config{Endpoint: cmp.Or(e.tracesEndpoint, e.endpoint)}
}

// FromEnv reads Vars through getenv into a Config. It returns an error
// naming the first variable whose value Vars refuse.
func FromEnv(getenv func(string) string) (Config, error) {
	var e Env
	for _, v := range Vars {
		if err := v.Set(&e, getenv(v.Name)); err != nil {
			return Config{}, fmt.Errorf("%s=%q: %w", v.Name, getenv(v.Name), err)
		}
	}
	return e.Config(), nil
}
