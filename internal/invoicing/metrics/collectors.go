package metrics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// BacklogReader reads the outbox's backlog; invoicingpg.Outbox implements it.
type BacklogReader interface {
	Backlog(ctx context.Context) (relay.Backlog, error)
}

// backlogTimeout bounds the backlog query of one scrape.
const backlogTimeout = 3 * time.Second

// outboxCollector reads the backlog once per scrape. Reading at scrape time,
// rather than keeping gauges up to date, costs nothing between scrapes and
// is right whichever process (or none) runs the relay.
type outboxCollector struct {
	src                      BacklogReader
	unpublished, parked, age *prometheus.Desc
}

// NewOutboxCollector returns a collector of outbox_unpublished_events,
// outbox_parked_events and outbox_oldest_unpublished_age_seconds, read from
// src at each scrape. If the read fails, the scrape reports the error for
// these metrics and serves the others.
func NewOutboxCollector(src BacklogReader) prometheus.Collector {
	return &outboxCollector{
		src: src,
		unpublished: prometheus.NewDesc("outbox_unpublished_events",
			"Committed events not yet published (parked ones included).", nil, nil),
		parked: prometheus.NewDesc("outbox_parked_events",
			"Events parked (RELAY_MAX_ATTEMPTS rejections, or one as too large), waiting for `invoicing outbox retry`.", nil, nil),
		age: prometheus.NewDesc("outbox_oldest_unpublished_age_seconds",
			"Age of the oldest unpublished event; 0 when none waits.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.unpublished
	ch <- c.parked
	ch <- c.age
}

// Collect implements prometheus.Collector.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	b, err := c.src.Backlog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.unpublished, err)
		return
	}
	var age float64
	if !b.Oldest.IsZero() {
		age = max(time.Since(b.Oldest).Seconds(), 0) // clocks of writers may differ a little
	}
	ch <- prometheus.MustNewConstMetric(c.unpublished, prometheus.GaugeValue, float64(b.Unpublished))
	ch <- prometheus.MustNewConstMetric(c.parked, prometheus.GaugeValue, float64(b.Parked))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}

// poolCollector reports pgxpool.Stat at each scrape.
type poolCollector struct {
	pool  *pgxpool.Pool
	descs []poolMetric
}

type poolMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*pgxpool.Stat) float64
}

// NewPoolCollector returns a collector of pool's statistics: pgxpool_*_conns
// gauges and pgxpool_*_total counters.
func NewPoolCollector(pool *pgxpool.Pool) prometheus.Collector {
	m := func(name, help string, kind prometheus.ValueType, value func(*pgxpool.Stat) float64) poolMetric {
		return poolMetric{prometheus.NewDesc(name, help, nil, nil), kind, value}
	}
	g, c := prometheus.GaugeValue, prometheus.CounterValue
	return &poolCollector{pool: pool, descs: []poolMetric{
		m("pgxpool_acquired_conns", "Connections currently in use.", g, func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
		m("pgxpool_idle_conns", "Connections idle in the pool.", g, func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
		m("pgxpool_constructing_conns", "Connections being opened.", g, func(s *pgxpool.Stat) float64 { return float64(s.ConstructingConns()) }),
		m("pgxpool_total_conns", "All connections: acquired, idle and being opened.", g, func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }),
		m("pgxpool_max_conns", "The pool's size limit (DB_MAX_CONNS).", g, func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
		m("pgxpool_acquire_count_total", "Connections acquired from the pool.", c, func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }),
		m("pgxpool_acquire_duration_seconds_total", "Total time spent acquiring connections.", c, func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }),
		m("pgxpool_empty_acquire_count_total", "Acquires that had to wait because no connection was idle.", c, func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }),
		m("pgxpool_canceled_acquire_count_total", "Acquires abandoned because their context ended.", c, func(s *pgxpool.Stat) float64 { return float64(s.CanceledAcquireCount()) }),
	}}
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.descs {
		ch <- m.desc
	}
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	for _, m := range c.descs {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(s))
	}
}
