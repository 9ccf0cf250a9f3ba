package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The stream and subject the service publishes paid invoices to.
const (
	eventStream = "INVOICING"
	paidSubject = "invoicing.invoice.paid"
)

// watcher follows invoicing.invoice.paid with an ordered (ephemeral)
// consumer and records, per invoice, when its event arrived relative to the
// event's CloudEvent time.
type watcher struct {
	nc     *nats.Conn
	stream jetstream.Stream

	mu      sync.Mutex
	delays  map[string]time.Duration // by invoice id (the CloudEvent subject)
	consume jetstream.ConsumeContext
}

// newWatcher connects to url. It fails if NATS is unreachable or the
// INVOICING stream does not exist (the service creates it when its relay
// starts).
// streamWait is how long newWatcher waits for the stream to appear.
const streamWait = 10 * time.Second

func newWatcher(ctx context.Context, url string) (*watcher, error) {
	nc, err := nats.Connect(url, nats.Name("invoicing-load"))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	// A relay just started may not have created the stream yet: give it
	// a few seconds (on a busy machine, leading and preparing take a while).
	s, err := js.Stream(ctx, eventStream)
	for deadline := time.Now().Add(streamWait); errors.Is(err, jetstream.ErrStreamNotFound) && time.Now().Before(deadline); {
		sleepUntil(ctx, time.Now().Add(100*time.Millisecond))
		s, err = js.Stream(ctx, eventStream)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("stream %s (is the service's relay running?): %w", eventStream, err)
	}
	return &watcher{nc: nc, stream: s}, nil
}

// start follows events published from now on, forgetting earlier ones.
func (w *watcher) start(ctx context.Context) error {
	w.mu.Lock()
	w.delays = map[string]time.Duration{}
	w.mu.Unlock()
	cons, err := w.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{paidSubject},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fmt.Errorf("ordered consumer on %s: %w", eventStream, err)
	}
	cc, err := cons.Consume(w.handle)
	if err != nil {
		return fmt.Errorf("consume %s: %w", eventStream, err)
	}
	w.consume = cc
	return nil
}

func (w *watcher) handle(m jetstream.Msg) {
	arrived := time.Now()
	var ce struct {
		Subject string    `json:"subject"`
		Time    time.Time `json:"time"`
	}
	if json.Unmarshal(m.Data(), &ce) != nil {
		return
	}
	w.mu.Lock()
	if _, seen := w.delays[ce.Subject]; !seen {
		w.delays[ce.Subject] = arrived.Sub(ce.Time)
	}
	w.mu.Unlock()
}

// wait waits up to timeout for the events of every invoice in paid, stops
// following, and returns their delays. Missing events are reported as
// Received < Expected, not as an error.
func (w *watcher) wait(ctx context.Context, paid []string, timeout time.Duration) (eventResult, error) {
	deadline := time.Now().Add(timeout)
	var got []time.Duration
	for {
		got = got[:0]
		w.mu.Lock()
		for _, id := range paid {
			if d, ok := w.delays[id]; ok {
				got = append(got, d)
			}
		}
		w.mu.Unlock()
		if len(got) == len(paid) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.consume.Stop()
	slices.Sort(got)
	r := eventResult{Expected: len(paid), Received: len(got),
		P50: ms(percentile(got, 50)), P99: ms(percentile(got, 99))}
	if len(got) > 0 {
		r.Max = ms(got[len(got)-1])
	}
	return r, ctx.Err()
}

func (w *watcher) close() { w.nc.Close() }
