package invoicinghttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
)

// opsServer serves NewHandler with cfg over an app whose ports are never
// called (the operational routes do not use them).
func opsServer(t *testing.T, cfg invoicinghttp.Config) (string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(invoicinghttp.NewHandler(app.New(nil, nil, nil, app.SystemClock{}), cfg))
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

func TestHealthz200(t *testing.T) {
	t.Parallel()
	url, _ := opsServer(t, invoicinghttp.Config{Checks: []invoicinghttp.Check{{Name: "database", Run: func(context.Context) error { return errors.New("down") }}}})
	status, body := get(t, url+"/healthz")
	if status != http.StatusOK || string(body) != "{\"status\":\"ok\"}\n" {
		t.Fatalf("GET /healthz = %d %s; want 200 {\"status\":\"ok\"}, whatever the checks say", status, body)
	}
}

type readyBody struct {
	Status  string   `json:"status"`
	Failing []string `json:"failing"`
	Checks  map[string]struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"checks"`
}

func TestReadyz200WhenEveryCheckHoldsOrIsSkipped(t *testing.T) {
	t.Parallel()
	url, _ := opsServer(t, invoicinghttp.Config{Checks: []invoicinghttp.Check{
		{Name: "database", Run: func(context.Context) error { return nil }},
		{Name: "nats"}, // not run by this process
	}})
	status, raw := get(t, url+"/readyz")
	var body readyBody
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || body.Status != "ready" || len(body.Failing) != 0 ||
		body.Checks["database"].Status != "ok" || body.Checks["nats"].Status != "skipped" {
		t.Fatalf("GET /readyz = %d %s", status, raw)
	}
}

func TestReadyzReportsAnAdvisoryCountWithoutFailingReadiness(t *testing.T) {
	t.Parallel()
	const secret = "postgres://admin:hunter2@db.internal:5432"
	for _, tc := range []struct {
		count int64
		err   error
		want  string
	}{
		{0, nil, `{"status":"ok","parked":0}`},
		{3, nil, `{"status":"warning","reason":"see the runbook","parked":3}`},
		{0, errors.New("query " + secret + " failed"), `{"status":"unknown"}`},
	} {
		url, _ := opsServer(t, invoicinghttp.Config{Checks: []invoicinghttp.Check{
			{Name: "database", Run: func(context.Context) error { return nil }},
			{Name: "outbox", Report: func(context.Context) (int64, error) { return tc.count, tc.err },
				CountName: "parked", Warning: "see the runbook"},
		}})
		status, raw := get(t, url+"/readyz")
		var body struct {
			Status  string
			Failing []string
			Checks  map[string]json.RawMessage
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		if status != http.StatusOK || body.Status != "ready" || len(body.Failing) != 0 || string(body.Checks["outbox"]) != tc.want {
			t.Errorf("count %d, error %v: GET /readyz = %d %s; want 200 ready with outbox %s", tc.count, tc.err, status, raw, tc.want)
		}
	}
}

func TestReadyz503NamesTheFailedChecksAndLeaksNothing(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	dbDown := true
	const secret = "postgres://admin:hunter2@db.internal:5432"
	url, logs := opsServer(t, invoicinghttp.Config{CheckTimeout: 200 * time.Millisecond, Checks: []invoicinghttp.Check{
		{Name: "database", Run: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if dbDown {
				return errors.Join(&invoicinghttp.Unready{Reason: "unreachable"}, errors.New("dial "+secret+": connection refused"))
			}
			return nil
		}},
		{Name: "schema", Run: func(context.Context) error { return errors.New("query " + secret + " failed") }},
		{Name: "nats", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}, // hangs
	}})

	client := specClient(t, false) // loads the contract before the clock starts
	start := time.Now()
	status, raw := getWith(t, client, url+"/readyz")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("GET /readyz took %s with a hanging check; the timeout is 200ms", took)
	}
	var body readyBody
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusServiceUnavailable || body.Status != "unavailable" ||
		strings.Join(body.Failing, ",") != "database,schema,nats" {
		t.Fatalf("GET /readyz = %d %s; want 503 failing database, schema, nats", status, raw)
	}
	for name, reason := range map[string]string{"database": "unreachable", "schema": "failed", "nats": "timeout"} {
		if c := body.Checks[name]; c.Status != "failed" || c.Reason != reason {
			t.Errorf("check %s = %+v, want failed with reason %q", name, c, reason)
		}
	}
	if strings.Contains(string(raw), "hunter2") || strings.Contains(string(raw), "db.internal") {
		t.Errorf("the response reveals an error text: %s", raw)
	}

	// Logged once, with the error, while it keeps failing; then its recovery.
	get(t, url+"/readyz")
	mu.Lock()
	dbDown = false
	mu.Unlock()
	get(t, url+"/readyz")
	var failed, recovered int
	for _, line := range splitLines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["check"] != "database" {
			continue
		}
		switch rec["msg"] {
		case "readiness check failed":
			failed++
			if err, _ := rec["err"].(string); !strings.Contains(err, "connection refused") {
				t.Errorf("the log lacks the error: %v", rec)
			}
		case "readiness check recovered":
			recovered++
		}
	}
	if failed != 1 || recovered != 1 {
		t.Errorf("database logged as failed %d and recovered %d times, want 1 and 1:\n%s", failed, recovered, logs)
	}
}

// observed is one request seen by a recordingObserver.
type observed struct {
	method, route string
	status        int
}

type recordingObserver struct {
	mu   sync.Mutex
	seen []observed
}

func (o *recordingObserver) ObserveRequest(method, route string, status int, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d <= 0 {
		status = -1 // a request takes time: make the test fail
	}
	o.seen = append(o.seen, observed{method, route, status})
}

func TestMetricsRouteAndRequestObserverSeeRoutePatterns(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "up 1\n") })
	a := newApp(t)
	key, _, err := a.CreateAPIKey.Handle(context.Background(), app.CreateAPIKey{TenantName: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(invoicinghttp.NewHandler(a, invoicinghttp.Config{Metrics: obs, MetricsHandler: metrics}))
	t.Cleanup(srv.Close)

	if status, body := get(t, srv.URL+"/metrics"); status != http.StatusOK || string(body) != "up 1\n" {
		t.Fatalf("GET /metrics without a key = %d %s; want the metrics handler's answer", status, body)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v1/invoices/0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d30", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	get(t, srv.URL+"/v1/invoices/0197c0a1-3f2e-7b41-9a6d-2c8e5f1b7d30") // no key
	getInvalid(t, srv.URL+"/wp-login.php")
	getInvalid(t, srv.URL+"/v1/customers/42")

	want := []observed{
		{"GET", "/metrics", 200},
		{"GET", "/v1/invoices/{id}", 404},
		{"GET", "/v1/invoices/{id}", 401},
		{"GET", "unmatched", 404},
		{"GET", "unmatched", 404},
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.seen) != len(want) {
		t.Fatalf("observed %v, want %v", obs.seen, want)
	}
	for i := range want {
		if obs.seen[i] != want[i] {
			t.Errorf("request %d observed as %v, want %v", i, obs.seen[i], want[i])
		}
	}
}

func TestWithoutMetricsHandlerThereIsNoMetricsRoute(t *testing.T) {
	t.Parallel()
	url, _ := opsServer(t, invoicinghttp.Config{})
	// Not through the contract, which documents /metrics as served.
	if status, _ := getWith(t, http.DefaultClient, url+"/metrics"); status != http.StatusNotFound {
		t.Fatalf("GET /metrics = %d, want 404", status)
	}
}

// TestRequestIDAndTraceParentReachTheEvents sends a change with X-Request-Id,
// traceparent and tracestate, and reads them back from the invoice's events,
// the same envelope the relay publishes.
func TestRequestIDAndTraceParentReachTheEvents(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	res := c.do(t, "POST", "/v1/invoices", c.keyA, map[string]any{
		"customer": map[string]string{"name": "Ada", "email": "ada@example.com"}, "currency": "EUR",
	}, "X-Request-Id", "req-create", "traceparent", parent, "tracestate", "congo=t61rcWkgMzE")
	inv := wantInvoice(t, res, http.StatusCreated)
	// A malformed traceparent is ignored, not an error.
	res = c.do(t, "POST", "/v1/invoices/"+inv.ID+"/lines", c.keyA,
		map[string]any{"description": "Consulting", "quantity": 1, "unit_amount": 100, "tax_rate_bps": 0},
		"traceparent", "00-not-a-trace-01", "tracestate", "congo=t61rcWkgMzE")
	wantInvoice(t, res, http.StatusCreated)
	generated := res.header.Get("X-Request-Id")

	type traced struct {
		CorrelationID string `json:"correlationid"`
		TraceParent   string `json:"traceparent"`
		TraceState    string `json:"tracestate"`
	}
	var list struct{ Data []traced }
	res = c.do(t, "GET", "/v1/invoices/"+inv.ID+"/events", c.keyA, nil)
	if err := json.Unmarshal(res.body, &list); err != nil || len(list.Data) != 2 {
		t.Fatalf("events: %v, %s", err, res.body)
	}
	if want := (traced{"req-create", parent, "congo=t61rcWkgMzE"}); list.Data[0] != want {
		t.Errorf("created event carries %+v, want %+v", list.Data[0], want)
	}
	if want := (traced{CorrelationID: generated}); generated == "" || list.Data[1] != want {
		t.Errorf("line_added event carries %+v, want %+v (the generated request id, no trace)", list.Data[1], want)
	}
	if stored := c.eventsTraced(t, "req-create", parent); stored != 1 {
		t.Errorf("outbox rows with the trace: %d; want 1", stored)
	}
}

// TestReadinessIsQuietAboutWhatStartUpClears: a check failing with an
// Unready marked Starting (the stream the relay is about to create on a
// first start) fails readiness with its reason but logs no failure, nor a
// recovery once it clears.
func TestReadinessIsQuietAboutWhatStartUpClears(t *testing.T) {
	var mu sync.Mutex
	pending := true
	url, logs := opsServer(t, invoicinghttp.Config{Checks: []invoicinghttp.Check{
		{Name: "nats", Run: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if pending {
				return &invoicinghttp.Unready{Reason: "stream INVOICING not created yet", Starting: true}
			}
			return nil
		}},
	}})
	if status, raw := getWith(t, http.DefaultClient, url+"/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(string(raw), "not created yet") {
		t.Errorf("GET /readyz while starting = %d %s, want 503 with the reason", status, raw)
	}
	mu.Lock()
	pending = false
	mu.Unlock()
	get(t, url+"/readyz")
	if strings.Contains(logs.String(), "readiness check failed") || strings.Contains(logs.String(), "readiness check recovered") {
		t.Errorf("a start-up condition was logged as a failure:\n%s", logs)
	}
}
