package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
)

// TestConfigRefusesEveryBadValue sets one variable at a time to a value the
// README says start-up refuses: loadConfig must fail naming that variable.
// Every variable the binary reads has at least one case.
func TestConfigRefusesEveryBadValue(t *testing.T) {
	bad := map[string][]string{
		"HTTP_ADDR": {"nonsense", "127.0.0.1", "127.0.0.1:http", ":70000", ":-1", "[::1:8080", "a b:80"},
		"DATABASE_URL": {"mysql://u@h/db", "postgres://h:notaport/db", "postgres://h:99999/db", "postgres://h/db?sslmode=sometimes",
			"postgres://h/db?pool_max_conns=many", "postgres://h/db?connect_timeout=soon"},
		"LOG_LEVEL":                    {"loud"},
		"SHUTDOWN_TIMEOUT":             {"15", "0s", "-1s"},
		"DB_MAX_CONNS":                 {"0", "many"},
		"API_KEY_CACHE_TTL":            {"-1s", "forever"},
		"NATS_URL":                     {"http://x", "nats://", "nats://h:notaport", "nats://h:0", "nats://a:4222,http://b:4222", "nats://a:4222,,", "ws://a,nats://b", "127.0.0.1:4222", " , ", "embedded,nats://a:4222", "embedded://"},
		"NATS_DUPLICATE_WINDOW":        {"0s", "2"},
		"NATS_EMBEDDED_ADDR":           {"4222", "127.0.0.1:nats", "localhost:70000"},
		"NATS_EMBEDDED_DIR":            {"nats-data", "./nats"},
		"NATS_STREAM_REPLICAS":         {"0", "6"},
		"NATS_ATOMIC_BATCHES":          {"maybe"},
		"RELAY_ENABLED":                {"yes please"},
		"RELAY_POLL_INTERVAL":          {"0s", "soon", "1ns", "9ms"},
		"RELAY_BATCH_SIZE":             {"0", "10001"},
		"RELAY_MAX_ATTEMPTS":           {"0"},
		"OUTBOX_RETENTION":             {"-1h", "a week"},
		"PPROF_ADDR":                   {"xyz", "localhost", "127.0.0.1:99999"},
		"NOTIFY_ENABLED":               {"sometimes"},
		"NOTIFY_DATABASE_URL":          {"mysql://u@h/db", "postgres://h:notaport/db"},
		"SMTP_URL":                     {"http://mail:25", "smtp://mail", "smtp://:25", "mail:25", "smtp://mail:99999", "smtps://mail:0"},
		"MAIL_FROM":                    {"not an address", "a@"},
		"MAIL_DOMAIN":                  {"example.com>", "a b", "x@y"},
		"NOTIFY_WORKERS":               {"0", "1001", "ten"},
		"NOTIFY_TENANT_SHARE":          {"0", "11", "half"},
		"NOTIFY_SEND_TIMEOUT":          {"0s", "30"},
		"NOTIFY_MAX_ATTEMPTS":          {"0", "1001"},
		"NOTIFY_RETRY_BASE":            {"-1s", "soon"},
		"NOTIFY_RETRY_MAX":             {"0s", "an hour"},
		"NOTIFY_INBOX_RETENTION":       {"-1h", "a month"},
		"REMINDER_SCHEDULE":            {"7d,3d", "3d,,7d", "0s", "soon", "-1h", "3.5d"},
		"WEBHOOKS_ENABLED":             {"maybe"},
		"WEBHOOK_TIMEOUT":              {"0s", "15"},
		"WEBHOOK_RETRY_SCHEDULE":       {"5s,,5m", "5s,-1m", "soon", ","},
		"WEBHOOK_DISABLE_AFTER":        {"-1h", "five days"},
		"WEBHOOK_SECRET_OVERLAP":       {"-1h", "a day"},
		"WEBHOOK_ALLOW_PRIVATE_URLS":   {"please"},
		"WEBHOOK_WORKERS":              {"0", "1001"},
		"WEBHOOK_ENDPOINT_CONCURRENCY": {"0", "many"},
		"WEBHOOK_TENANT_CONCURRENCY":   {"0", "51", "many"},
		"WEBHOOK_MAX_ENDPOINTS":        {"0", "1001", "many"},
		"OVERDUE_INTERVAL":             {"-1m", "daily", "1ns", "9ms"},
		"OVERDUE_BATCH_SIZE":           {"0", "10001", "some"},

		// tracing (internal/invoicing/tracing.Check)
		"OTEL_EXPORTER_OTLP_ENDPOINT":        {"localhost:4318", "grpc://collector:4317", "http://", "http://collector:99999", "http://collector:0"},
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": {"collector:4318/v1/traces", "http://jaeger:70000/v1/traces"},
		"OTEL_EXPORTER_OTLP_PROTOCOL":        {"grpc", "http/json"},
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": {"grpc"},
		"OTEL_TRACES_EXPORTER":               {"jaeger", "console"},
	}
	for _, v := range envVars {
		if len(bad[v.Name]) == 0 {
			t.Errorf("no bad value is tried for %s", v.Name)
		}
	}
	for name, values := range bad {
		for _, val := range values {
			_, err := loadConfig(env(map[string]string{name: val}))
			if err == nil {
				t.Errorf("%s=%q accepted", name, val)
				continue
			}
			if !strings.Contains(err.Error(), name+"=") {
				t.Errorf("%s=%q: error %q does not name the variable", name, val, err)
			}
		}
	}
}

// TestConfigAcceptsGoodValues checks values of the forms the README
// documents, so validation is not stricter than the programs it feeds.
func TestConfigAcceptsGoodValues(t *testing.T) {
	good := map[string][]string{
		"HTTP_ADDR":           {":8080", "127.0.0.1:0", "[::1]:8080", "localhost:8080", "api.internal:443"},
		"DATABASE_URL":        {"postgresql://u:p@db.internal:6432/invoicing?sslmode=require&pool_max_conns=5", "postgres://u@h1:5432,h2:5433/db"},
		"NATS_URL":            {"embedded", "nats://127.0.0.1:4222", "tls://u:p@n1:4222, tls://n2:4222", "nats://n1,nats://n2:4223", "ws://n1:8080", "wss://n1/nats"},
		"PPROF_ADDR":          {"", "127.0.0.1:6060", "localhost:0"},
		"SMTP_URL":            {"", "smtp://127.0.0.1:1025", "smtps://u:p@mail.example.com:465"},
		"NOTIFY_DATABASE_URL": {"", "postgres://u@notify-db:5432/notification"},
		"NATS_EMBEDDED_ADDR":  {"127.0.0.1:4222", "127.0.0.1:0", ":4223"},
		"NATS_EMBEDDED_DIR":   {"", "/var/lib/invoicing/nats"},

		"OTEL_EXPORTER_OTLP_ENDPOINT":        {"", "http://localhost:4318", "https://otel.example.com:4318/prefix"},
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": {"", "http://jaeger:4318/v1/traces"},
		"OTEL_EXPORTER_OTLP_PROTOCOL":        {"", "http/protobuf"},
		"OTEL_TRACES_EXPORTER":               {"", "otlp", "none"},
	}
	for name, values := range good {
		for _, val := range values {
			if _, err := loadConfig(env(map[string]string{name: val})); err != nil {
				t.Errorf("%s=%q refused: %v", name, val, err)
			}
		}
	}
}

// TestConfigErrorHidesPasswords: a refused URL is not echoed with its
// password, since start-up errors end up in logs.
func TestConfigErrorHidesPasswords(t *testing.T) {
	for name, val := range map[string]string{
		"DATABASE_URL": "postgres://u:hunter2@h:notaport/db",
		"NATS_URL":     "nats://u:hunter2@h:4222,http://u:hunter2@x",
		"SMTP_URL":     "http://u:hunter2@mail:25",
	} {
		_, err := loadConfig(env(map[string]string{name: val}))
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error %v shows the password (or no error)", name, err)
		}
	}
}

// TestServeRefusesBadAddressBeforeConnecting starts serve, relay and notify
// with HTTP_ADDR or PPROF_ADDR wrong (malformed, or a port already taken)
// and DATABASE_URL and NATS_URL pointing where nothing listens: start-up
// must fail naming that variable, having tried to connect to neither.
func TestServeRefusesBadAddressBeforeConnecting(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	nowhere := freePort(t)
	for _, cmd := range []string{"serve", "relay", "notify"} {
		for _, vars := range []map[string]string{
			{"HTTP_ADDR": "nonsense"},
			{"HTTP_ADDR": taken.Addr().String()},
			{"HTTP_ADDR": "127.0.0.1:0", "PPROF_ADDR": taken.Addr().String()},
		} {
			vars["DATABASE_URL"] = "postgres://postgres@" + nowhere + "/invoicing?sslmode=disable"
			vars["NATS_URL"] = "nats://" + nowhere
			want := "HTTP_ADDR"
			if vars["PPROF_ADDR"] != "" {
				want = "PPROF_ADDR"
			}
			err := run(context.Background(), []string{cmd}, env(vars), io.Discard)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s with %v: error %v, want one naming %s", cmd, vars, err, want)
			}
		}
	}
}

// freePort returns a local address nothing listens on (it was free a moment ago).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestConfigErrorSuggestsTheValidValue: a value close to a valid one is
// refused with what would have been accepted, not the parser's own words.
func TestConfigErrorSuggestsTheValidValue(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"LOG_LEVEL", "verbose", "debug, info, warn or error"},
		{"NATS_URL", "Embedded", "`embedded`"},
		{"NATS_URL", "EMBEDDED", "`embedded`"},
	} {
		_, err := loadConfig(func(k string) string {
			if k == tc.name {
				return tc.value
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: error %v, want it to name the variable and say %s", tc.name, tc.value, err, tc.want)
		}
	}
}
