package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/invoicing-dev/invoicing/internal/invoicing/metrics"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// gather returns every sample of reg as "name{label=value,...}" → value;
// histograms as their _count and _sum.
func gather(t *testing.T, reg prometheus.Gatherer) (map[string]float64, error) {
	t.Helper()
	families, err := reg.Gather()
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName() + labels(m)
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[f.GetName()+"_count"+labels(m)] = float64(m.GetHistogram().GetSampleCount())
				out[f.GetName()+"_sum"+labels(m)] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out, err
}

func labels(m *dto.Metric) string {
	if len(m.GetLabel()) == 0 {
		return ""
	}
	s := "{"
	for i, l := range m.GetLabel() {
		if i > 0 {
			s += ","
		}
		s += l.GetName() + "=" + l.GetValue()
	}
	return s + "}"
}

func want(t *testing.T, got map[string]float64, expected map[string]float64) {
	t.Helper()
	for k, v := range expected {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present: %t), want %v", k, g, ok, v)
		}
	}
}

func TestHTTPCountsByRouteAndStatusAndBoundsMethods(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.NewHTTP(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveRequest("POST", "/v1/invoices/{id}/payments", 200, 30*time.Millisecond)
	m.ObserveRequest("POST", "/v1/invoices/{id}/payments", 200, 10*time.Millisecond)
	m.ObserveRequest("POST", "/v1/invoices/{id}/payments", 422, time.Millisecond)
	m.ObserveRequest("BREW", "unmatched", 405, time.Millisecond)
	got, err := gather(t, reg)
	if err != nil {
		t.Fatal(err)
	}
	want(t, got, map[string]float64{
		"http_requests_total{method=POST,route=/v1/invoices/{id}/payments,status=200}":      2,
		"http_requests_total{method=POST,route=/v1/invoices/{id}/payments,status=422}":      1,
		"http_requests_total{method=OTHER,route=unmatched,status=405}":                      1,
		"http_request_duration_seconds_count{method=POST,route=/v1/invoices/{id}/payments}": 3,
		"http_request_duration_seconds_sum{method=POST,route=/v1/invoices/{id}/payments}":   0.041,
	})
	if _, err := metrics.NewHTTP(reg); err == nil {
		t.Error("registering the HTTP metrics twice succeeded")
	}
}

func TestRelayRecordsRoundsParkingAndLeadership(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.NewRelay(reg)
	if err != nil {
		t.Fatal(err)
	}
	var _ relay.Metrics = m
	m.Leading(true)
	m.Batch(500)
	m.Round(20*time.Millisecond, 497, 2, 1)
	m.Parked()
	m.Stage(relay.StageWake, 3*time.Millisecond)
	m.Stage(relay.StageMark, time.Millisecond)
	m.Stage(relay.StageMark, time.Millisecond)
	got, err := gather(t, reg)
	if err != nil {
		t.Fatal(err)
	}
	want(t, got, map[string]float64{
		"relay_leader":                                           1,
		"relay_batch_size_count":                                 1,
		"relay_batch_size_sum":                                   500,
		"relay_publish_duration_seconds_count":                   1,
		"relay_publish_duration_seconds_sum":                     0.02,
		"relay_events_published_total":                           497,
		"relay_publish_failures_total{reason=rejected}":          2,
		"relay_publish_failures_total{reason=unavailable}":       1,
		"relay_events_parked_total":                              1,
		"relay_event_stage_seconds_count{stage=commit_to_wake}":  1,
		"relay_event_stage_seconds_sum{stage=commit_to_wake}":    0.003,
		"relay_event_stage_seconds_count{stage=acked_to_marked}": 2,
		"relay_event_stage_seconds_count{stage=sent_to_acked}":   0,
	})
	m.Leading(false)
	if got, _ := gather(t, reg); got["relay_leader"] != 0 {
		t.Errorf("relay_leader = %v after losing the lead, want 0", got["relay_leader"])
	}
}

type fakeBacklog struct {
	b   relay.Backlog
	err error
}

func (f fakeBacklog) Backlog(context.Context) (relay.Backlog, error) { return f.b, f.err }

func TestOutboxCollectorReadsTheBacklogAtScrapeTime(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewOutboxCollector(fakeBacklog{b: relay.Backlog{Unpublished: 12, Parked: 2, Oldest: time.Now().Add(-time.Minute)}}))
	got, err := gather(t, reg)
	if err != nil {
		t.Fatal(err)
	}
	want(t, got, map[string]float64{"outbox_unpublished_events": 12, "outbox_parked_events": 2})
	if age := got["outbox_oldest_unpublished_age_seconds"]; age < 59 || age > 70 {
		t.Errorf("outbox_oldest_unpublished_age_seconds = %v, want about 60", age)
	}

	empty := prometheus.NewRegistry()
	empty.MustRegister(metrics.NewOutboxCollector(fakeBacklog{}))
	got, _ = gather(t, empty)
	want(t, got, map[string]float64{"outbox_unpublished_events": 0, "outbox_oldest_unpublished_age_seconds": 0})

	failing := prometheus.NewRegistry()
	failing.MustRegister(metrics.NewOutboxCollector(fakeBacklog{err: errors.New("database down")}))
	if _, err := gather(t, failing); err == nil {
		t.Error("a failed backlog read gathered without error")
	}
}

func TestPoolCollectorReportsThePoolsStatistics(t *testing.T) {
	pool := pgtest.New(t)
	if err := pool.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewPoolCollector(pool))
	got, err := gather(t, reg)
	if err != nil {
		t.Fatal(err)
	}
	want(t, got, map[string]float64{"pgxpool_max_conns": float64(pool.Stat().MaxConns()), "pgxpool_acquired_conns": 0})
	if got["pgxpool_acquire_count_total"] < 1 || got["pgxpool_total_conns"] < 1 {
		t.Errorf("pool statistics after a ping: %v", got)
	}
}

// BenchmarkObserveRequest measures what every request pays for its metrics.
func BenchmarkObserveRequest(b *testing.B) {
	m, err := metrics.NewHTTP(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("POST", "/v1/invoices/{id}/payments", 200, 3*time.Millisecond)
		}
	})
}
