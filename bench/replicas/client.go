package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
)

// call sends body to replica i and returns the decoded JSON object; an
// error unless the status is want.
func (c *api) call(ctx context.Context, i int, path, body string, want int) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.bases[i]+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("POST %s on replica %d: %d %s", path, i, resp.StatusCode, b)
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// openInvoices creates and issues n invoices of 50.00 EUR (untimed), spread
// over the replicas, and returns their ids.
func (c *api) openInvoices(ctx context.Context, n int) ([]string, error) {
	ids := make([]string, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for k := range ids {
		g.Go(func() error {
			i := k % len(c.bases)
			inv, err := c.call(gctx, i, "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":1,"unit_amount":5000,"tax_rate_bps":0}]}`, 201)
			if err != nil {
				return err
			}
			id, _ := inv["id"].(string)
			if _, err := c.call(gctx, i, "/v1/invoices/"+id+"/issue", "", 200); err != nil {
				return err
			}
			ids[k] = id
			return nil
		})
	}
	return ids, g.Wait()
}

// pay pays invoice id in full through replica i.
func (c *api) pay(ctx context.Context, i int, id string) error {
	_, err := c.call(ctx, i, "/v1/invoices/"+id+"/payments", `{"amount":5000,"reference":"psp_bench"}`, 200)
	return err
}

// watcher records, per invoice, the delay from its paid event's CloudEvent
// time to the time JetStream stored it.
type watcher struct {
	nc     *nats.Conn
	cc     jetstream.ConsumeContext
	mu     sync.Mutex
	delays map[string]time.Duration
}

// watch follows invoicing.invoice.paid from now on, once the relay has
// created the INVOICING stream.
func watch(ctx context.Context, url string) (*watcher, error) {
	nc, err := nats.Connect(url, nats.Name("bench-replicas"))
	if err != nil {
		return nil, err
	}
	w := &watcher{nc: nc, delays: map[string]time.Duration{}}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	var s jetstream.Stream
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if s, err = js.Stream(ctx, "INVOICING"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			nc.Close()
			return nil, fmt.Errorf("the relay did not create the INVOICING stream within 30s: %w", err)
		}
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"invoicing.invoice.paid"}, DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err == nil {
		w.cc, err = cons.Consume(w.handle)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return w, nil
}

func (w *watcher) handle(m jetstream.Msg) {
	md, err := m.Metadata()
	var ce struct {
		Subject string    `json:"subject"`
		Time    time.Time `json:"time"`
	}
	if err != nil || json.Unmarshal(m.Data(), &ce) != nil {
		return
	}
	w.mu.Lock()
	if _, seen := w.delays[ce.Subject]; !seen {
		w.delays[ce.Subject] = md.Timestamp.Sub(ce.Time)
	}
	w.mu.Unlock()
}

// wait waits up to timeout for the events of every invoice of ids and
// returns the delays recorded (missing events are absent).
func (w *watcher) wait(ids []string, timeout time.Duration) map[string]time.Duration {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		all := true
		for _, id := range ids {
			if _, ok := w.delays[id]; !ok {
				all = false
				break
			}
		}
		w.mu.Unlock()
		if all {
			break
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]time.Duration, len(w.delays))
	for k, v := range w.delays {
		out[k] = v
	}
	return out
}

func (w *watcher) close() {
	if w.cc != nil {
		w.cc.Stop()
	}
	w.nc.Close()
}
