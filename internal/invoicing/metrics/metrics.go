// Package metrics exposes the service's measurements in the Prometheus
// format: it implements the measurement ports of the HTTP layer and the relay
// with client_golang, and collects the outbox backlog and the database pool's
// statistics when scraped. Nothing here registers globally: every constructor
// takes the registry to register with, and main serves that registry.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// HTTP counts and times the requests the API serves. It implements the
// RequestObserver of package invoicinghttp.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTP registers http_requests_total{method,route,status} and
// http_request_duration_seconds{method,route} with reg. It returns an error
// if reg already has metrics of these names.
func NewHTTP(reg prometheus.Registerer) (*HTTP, error) {
	m := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by method, route pattern (\"unmatched\" for none) and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time from a request's arrival to its handler's return, by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route"}),
	}
	if err := register(reg, m.requests, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// ObserveRequest records one served request. route must be a route pattern
// or "unmatched", never a raw path, so the series stay few.
func (m *HTTP) ObserveRequest(method, route string, status int, d time.Duration) {
	method = knownMethod(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// knownMethod returns method if it is a standard one, else "OTHER": clients
// choose the method, and each distinct one would make new series.
func knownMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// Relay records the outbox relay's work. It implements relay.Metrics.
type Relay struct {
	published   prometheus.Counter
	rejected    prometheus.Counter
	unavailable prometheus.Counter
	parked      prometheus.Counter
	batch       prometheus.Histogram
	round       prometheus.Histogram
	leader      prometheus.Gauge
	stages      []prometheus.Observer // by relay.Stage
}

var _ relay.Metrics = (*Relay)(nil)

// NewRelay registers the relay_* metrics with reg. It returns an error if
// reg already has metrics of these names.
func NewRelay(reg prometheus.Registerer) (*Relay, error) {
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "relay_publish_failures_total",
		Help: "Events the broker did not store: rejected (counted against the event, which may be parked) or unavailable (an outage: broker down, disconnected, ack timeout; retried without counting).",
	}, []string{"reason"})
	m := &Relay{
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relay_events_published_total",
			Help: "Events the broker acknowledged (stored, or already held as a duplicate).",
		}),
		rejected:    failures.WithLabelValues("rejected"),
		unavailable: failures.WithLabelValues("unavailable"),
		parked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relay_events_parked_total",
			Help: "Events parked (RELAY_MAX_ATTEMPTS rejections, or one as too large); they wait for `invoicing outbox retry`.",
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "relay_batch_size",
			Help:    "Outbox records read per (non-empty) batch.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000},
		}),
		round: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "relay_publish_duration_seconds",
			Help:    "Time to send one publish round and receive every answer (one round per batch, unless an invoice has several events in it).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5ms .. 16s
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "relay_leader",
			Help: "1 while this process's relay is the leader, else 0.",
		}),
	}
	stages := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "relay_event_stage_seconds",
		Help: "Time each published event spent in each stage from its commit to being marked published: commit_to_wake (to the start of the read that claims it), wake_to_claimed (the read), claimed_to_sent (awaiting the batch before), sent_to_acked (the broker's answer), acked_to_marked (the store's update).",
		// Fine steps (x1.5) so that a p99 read from the buckets is within
		// a quarter of the true one, from 0.1ms to 8s.
		Buckets: prometheus.ExponentialBuckets(0.0001, 1.5, 29),
	}, []string{"stage"})
	for _, st := range relay.Stages() {
		m.stages = append(m.stages, stages.WithLabelValues(st.String()))
	}
	if err := register(reg, m.published, failures, m.parked, m.batch, m.round, m.leader, stages); err != nil {
		return nil, err
	}
	return m, nil
}

// Leading implements relay.Metrics.
func (m *Relay) Leading(leading bool) {
	if leading {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

// Batch implements relay.Metrics.
func (m *Relay) Batch(records int) { m.batch.Observe(float64(records)) }

// Round implements relay.Metrics.
func (m *Relay) Round(d time.Duration, stored, rejected, unavailable int) {
	m.round.Observe(d.Seconds())
	m.published.Add(float64(stored))
	m.rejected.Add(float64(rejected))
	m.unavailable.Add(float64(unavailable))
}

// Parked implements relay.Metrics.
func (m *Relay) Parked() { m.parked.Inc() }

// Stage implements relay.Metrics.
func (m *Relay) Stage(s relay.Stage, d time.Duration) {
	if int(s) < len(m.stages) {
		m.stages[s].Observe(d.Seconds())
	}
}

// register registers every collector with reg, or returns the first error.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
