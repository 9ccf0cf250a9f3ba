package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// served is the real program serving in this process, stopped at the end
// of the test (and required to stop cleanly).
type served struct {
	base string
	key  string
	logs *syncBuffer
}

// startServe creates an API key and runs `serve` with vars (plus a fresh
// database unless vars has DATABASE_URL, and HTTP_ADDR 127.0.0.1:0).
func startServe(t *testing.T, vars map[string]string) *served {
	t.Helper()
	if vars["DATABASE_URL"] == "" {
		vars["DATABASE_URL"] = pgtest.NewURL(t)
	}
	vars["HTTP_ADDR"] = "127.0.0.1:0"
	getenv := env(vars)
	var out strings.Builder
	if err := run(context.Background(), []string{"apikey", "create", "--tenant", "acme"}, getenv, &out); err != nil {
		t.Fatalf("apikey create: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, logs) }()
	s := &served{base: "http://" + waitListening(t, logs, done), key: lastLine(out.String()), logs: logs}
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after cancel, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s of cancellation")
		}
	})
	return s
}

// readyz is the body of GET /readyz.
type readyz struct {
	Status  string
	Failing []string
	Checks  map[string]struct{ Status, Reason string }
}

// ready returns the status and body of GET /readyz.
func (s *served) ready(t *testing.T) (int, readyz) {
	t.Helper()
	res, err := http.Get(s.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body readyz
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET /readyz body: %v", err)
	}
	return res.StatusCode, body
}

// waitReady polls GET /readyz until it answers status with exactly the
// failing checks named, and returns how long that took.
func (s *served) waitReady(t *testing.T, status int, failing ...string) time.Duration {
	t.Helper()
	start := time.Now()
	var got int
	var body readyz
	for time.Since(start) < 30*time.Second {
		if got, body = s.ready(t); got == status && slices.Equal(body.Failing, failing) {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET /readyz = %d %+v after 30s; want %d failing %v\n%s", got, body, status, failing, s.logs)
	return 0
}

// waitCheck polls GET /readyz until its check name has status and reason,
// and returns how long that took.
func (s *served) waitCheck(t *testing.T, name, status, reason string) time.Duration {
	t.Helper()
	start := time.Now()
	var body readyz
	for time.Since(start) < 30*time.Second {
		if _, body = s.ready(t); body.Checks[name].Status == status && body.Checks[name].Reason == reason {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET /readyz %+v after 30s; want %s %s %q\n%s", body, name, status, reason, s.logs)
	return 0
}

// allowConnections lets the database of dbURL accept connections or not; not
// also ends its open sessions, as if the server had gone away.
func allowConnections(t *testing.T, dbURL string, allow bool) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS %t", pgx.Identifier{name}.Sanitize(), allow)); err != nil {
		t.Fatal(err)
	}
	if !allow {
		if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadyzFollowsTheDatabaseAndNATS takes NATS away and back, then the
// database, and expects /readyz to name what is missing, and /healthz to
// stay 200 throughout.
func TestReadyzFollowsTheDatabaseAndNATS(t *testing.T) {
	t.Parallel()
	ns := natstest.New(t)
	dbURL := pgtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL, "NATS_URL": ns.URL()})
	healthy := func() {
		t.Helper()
		res, err := http.Get(s.base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz = %d while a dependency is down; want 200", res.StatusCode)
		}
	}

	s.waitCheck(t, "nats", "ok", "") // ready before: the nats check only warns until the relay made the stream
	if _, body := s.ready(t); body.Status != "ready" || body.Checks["database"].Status != "ok" ||
		body.Checks["schema"].Status != "ok" || body.Checks["nats"].Status != "ok" {
		t.Fatalf("ready body %+v", body)
	}

	// NATS down: serve stays in rotation (payments go into the outbox, which
	// is what it is for), the nats check warns.
	ns.Stop()
	t.Logf("NATS down: a warning after %s", s.waitCheck(t, "nats", "warning", "not connected"))
	if got, body := s.ready(t); got != http.StatusOK || body.Status != "ready" {
		t.Errorf("GET /readyz with NATS down = %d %+v, want 200 ready: serve's API does not need the broker", got, body)
	}
	healthy()
	ns.Restart()
	t.Logf("NATS back: ok after %s", s.waitCheck(t, "nats", "ok", ""))

	allowConnections(t, dbURL, false)
	t.Cleanup(func() { allowConnections(t, dbURL, true) }) // so the drop can force out the relay's retries
	t.Logf("database down: 503 after %s", s.waitReady(t, http.StatusServiceUnavailable, "database", "schema"))
	if _, body := s.ready(t); body.Checks["database"].Reason != "unreachable" {
		t.Errorf("database check %+v, want reason \"unreachable\"", body.Checks["database"])
	}
	healthy()
	allowConnections(t, dbURL, true)
	t.Logf("database back: 200 after %s", s.waitReady(t, http.StatusOK))
}

func TestReadyzSkipsNATSWithoutTheRelay(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"RELAY_ENABLED": "false", "NATS_URL": "nats://127.0.0.1:1"})
	s.waitReady(t, http.StatusOK)
	if _, body := s.ready(t); body.Checks["nats"].Status != "skipped" {
		t.Fatalf("nats check %+v without a relay, want skipped", body.Checks["nats"])
	}
}

// scrape returns every sample of GET /metrics by its series, e.g.
// `http_requests_total{method="POST",route="/v1/invoices",status="201"}`.
func (s *served) scrape(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, f := range metricFamilies(t, s.base) {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			series := name
			if len(labels) > 0 {
				series += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[series] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[series] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[name+"_count"+strings.TrimPrefix(series, name)] = float64(m.GetHistogram().GetSampleCount())
			case m.GetUntyped() != nil:
				out[series] = m.GetUntyped().GetValue()
			}
		}
	}
	return out
}

// TestMetricsReflectAPaymentAndItsPublication pays an invoice over HTTP and
// scrapes /metrics until the payment and its events' publication show.
func TestMetricsReflectAPaymentAndItsPublication(t *testing.T) {
	t.Parallel()
	ns := natstest.New(t)
	s := startServe(t, map[string]string{"NATS_URL": ns.URL()})
	c := client{t: t, base: s.base, key: s.key}

	before := s.scrape(t)
	for _, series := range []string{"relay_events_published_total", "outbox_unpublished_events", "pgxpool_max_conns", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := before[series]; !ok {
			t.Errorf("GET /metrics lacks %s", series)
		}
	}
	if before["pgxpool_max_conns"] != 20 {
		t.Errorf("pgxpool_max_conns = %v, want DB_MAX_CONNS's default 20", before["pgxpool_max_conns"])
	}

	inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":2,"unit_amount":5000,"tax_rate_bps":2000}]}`, 201)
	id := inv["id"].(string)
	c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
	c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount":12000,"reference":"psp_1"}`, 200)

	const payments = `http_requests_total{method="POST",route="/v1/invoices/{id}/payments",status="200"}`
	deadline := time.Now().Add(10 * time.Second)
	var got map[string]float64
	for {
		got = s.scrape(t)
		// created, issued, payment_recorded, paid
		if got["relay_events_published_total"]-before["relay_events_published_total"] >= 4 && got["outbox_unpublished_events"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the payment's events were not published within 10s: published %v, unpublished %v",
				got["relay_events_published_total"], got["outbox_unpublished_events"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	for series, want := range map[string]float64{
		payments: 1,
		`http_request_duration_seconds_count{method="POST",route="/v1/invoices/{id}/payments"}`: 1,
		`http_requests_total{method="POST",route="/v1/invoices",status="201"}`:                  1,
		"relay_leader":                                    1,
		"outbox_oldest_unpublished_age_seconds":           0,
		"outbox_parked_events":                            0,
		`relay_publish_failures_total{reason="rejected"}`: 0,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
	if got["relay_publish_duration_seconds_count"] < 1 || got["relay_batch_size_count"] < 1 || got["pgxpool_acquire_count_total"] < 1 {
		t.Errorf("relay or pool metrics did not move: %v", got)
	}
}

// TestRelayCommandDrainsWhenStopped runs `invoicing relay` with a one-minute
// poll, commits events it is not woken for, and stops it: it must publish
// them before it returns.
func TestRelayCommandDrainsWhenStopped(t *testing.T) {
	t.Parallel()
	ns := natstest.New(t)
	dbURL := pgtest.NewURL(t)
	logs, stop := runRelayCommand(t, map[string]string{"DATABASE_URL": dbURL, "NATS_URL": ns.URL(), "RELAY_POLL_INTERVAL": "1m"})
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(logs.String(), "relay: leading"); {
		if time.Now().After(deadline) {
			t.Fatalf("the relay did not lead within 15s:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // past its first read, into the one-minute wait

	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{}', now() FROM generate_series(1, 1200)`); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("relay returned %v, want nil", err)
	}
	var unpublished int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM outbox o, outbox_position p
WHERE p.partition = 0 AND ((o.txid, o.sequence) > (p.txid, p.sequence) OR EXISTS (SELECT 1 FROM outbox_held h WHERE h.sequence = o.sequence))`).Scan(&unpublished); err != nil {
		t.Fatal(err)
	}
	if unpublished != 0 {
		t.Fatalf("%d of 1200 events unpublished after the relay stopped; it should drain first\n%s", unpublished, logs)
	}
}

// TestRelayCommandServesProbesAndMetricsButNoAPI runs `invoicing relay` alone:
// its HTTP_ADDR answers /healthz, /readyz (NATS included) and /metrics with
// the relay's series, and nothing of the API.
func TestRelayCommandServesProbesAndMetricsButNoAPI(t *testing.T) {
	t.Parallel()
	ns := natstest.New(t)
	logs, stop := runRelayCommand(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t), "NATS_URL": ns.URL()})
	s := &served{base: "http://" + waitListening(t, logs, nil), logs: logs}

	if _, body := s.ready(t); body.Checks["nats"].Status == "skipped" {
		t.Errorf("GET /readyz skips NATS in the relay process: %+v", body)
	}
	s.waitReady(t, http.StatusOK)
	for deadline := time.Now().Add(15 * time.Second); s.scrape(t)["relay_leader"] != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("relay_leader never became 1:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, series := range []string{"relay_events_published_total", "outbox_unpublished_events", "pgxpool_max_conns"} {
		if _, ok := s.scrape(t)[series]; !ok {
			t.Errorf("GET /metrics lacks %s", series)
		}
	}
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/v1/invoices": http.StatusNotFound, "/v1/openapi.yaml": http.StatusNotFound} {
		res, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
		if want == http.StatusNotFound && res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: Content-Type %q, want application/problem+json", path, res.Header.Get("Content-Type"))
		}
	}

	// The relay process has no API to keep in rotation: without NATS it
	// cannot do its work, and says so.
	ns.Stop()
	s.waitReady(t, http.StatusServiceUnavailable, "nats")
	if _, body := s.ready(t); body.Checks["nats"].Reason != "not connected" {
		t.Errorf("nats check %+v, want reason \"not connected\"", body.Checks["nats"])
	}

	if err := stop(); err != nil {
		t.Fatalf("relay returned %v after cancel, want nil", err)
	}
	if _, err := http.Get(s.base + "/healthz"); err == nil {
		t.Error("the relay's HTTP server still answers after it stopped")
	}
}

// runRelayCommand runs `invoicing relay` in this process with vars (and
// HTTP_ADDR 127.0.0.1:0). stop cancels it and returns its error; it fails
// the test if the relay has not returned 30s later.
func runRelayCommand(t *testing.T, vars map[string]string) (logs *syncBuffer, stop func() error) {
	t.Helper()
	vars["HTTP_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logs = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"relay"}, env(vars), logs) }()
	return logs, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("the relay did not stop within 30s")
			return nil
		}
	}
}

// Asked for a stream the NATS server refuses for good (three replicas of a
// server not in a cluster), the relay stops saying why instead of retrying
// for ever behind a readiness check that says only "stream not found":
// `invoicing relay` exits with the error; serve logs it and goes on serving
// the API, whose payments wait in the outbox, as in a broker outage.
func TestAStreamTheServerRefusesStopsTheRelayNotTheAPI(t *testing.T) {
	getenv := env(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "NATS_URL": natstest.New(t).URL(),
		"HTTP_ADDR": "127.0.0.1:0", "NATS_STREAM_REPLICAS": "3"})
	if err := run(context.Background(), []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, []string{"relay"}, getenv, &syncBuffer{})
	if ctx.Err() != nil || err == nil || !strings.Contains(err.Error(), "misconfigured") || !strings.Contains(err.Error(), "replicas") {
		t.Errorf("relay with NATS_STREAM_REPLICAS=3 on a single server: %v (after %v); want it to stop, naming the replicas", err, ctx.Err())
	}

	key := newAPIKey(context.Background(), t, getenv)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, getenv, logs) }()
	c := client{t: t, base: "http://" + waitListening(t, logs, done), key: key}
	for !strings.Contains(logs.String(), "relay stopped") {
		if ctx.Err() != nil {
			t.Fatalf("serve's relay did not stop on the refused stream:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR"}`, 201)
	stop()
	if err := <-done; err != nil {
		t.Errorf("serve returned %v after its relay stopped and it was cancelled, want nil", err)
	}
}

// metricFamilies returns the metric families of GET base/metrics by name.
func metricFamilies(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("GET /metrics is not the Prometheus text format: %v", err)
	}
	return families
}
