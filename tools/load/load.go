package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// runID makes payment references unique across runs against one database.
var runID = strconv.FormatInt(time.Now().UnixNano(), 36)

// worker is one goroutine's share of a level's measurements.
type worker struct {
	latencies []time.Duration // of requests answered 200
	errors    map[string]int  // by status, "transport" for no response
	paid      []string        // ids of invoices answered 200
}

// payLevel pays invoices from p with n concurrent workers for d, at most
// rate payments/s in total if rate > 0. Payments started in the first warmup
// of d are left out of the result. It stops early if p runs out or ctx ends.
// It returns the level's result and the ids of the invoices it counted paid.
func payLevel(ctx context.Context, c *client, p *pool, n int, d, warmup time.Duration, rate float64) (levelResult, []string) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var exhausted atomic.Bool
	var ticket atomic.Int64 // the k-th payment is due at start + k/rate
	workers := make([]worker, n)
	start := time.Now()
	measureFrom := start.Add(warmup)
	var wg sync.WaitGroup
	for w := range workers {
		workers[w].errors = map[string]int{}
		wg.Go(func() {
			me := &workers[w]
			for ctx.Err() == nil {
				if rate > 0 {
					due := start.Add(time.Duration(float64(ticket.Add(1)-1) / rate * float64(time.Second)))
					if !sleepUntil(ctx, due) {
						return
					}
				}
				inv, ok := p.take()
				if !ok {
					exhausted.Store(true)
					return
				}
				ref := fmt.Sprintf("load-%s-%s", runID, inv.id)
				t0 := time.Now()
				// Not ctx: a request in flight when the level ends is
				// finished and counted, not cut off as an error.
				status, err := c.pay(context.WithoutCancel(ctx), inv, ref)
				took := time.Since(t0)
				switch {
				case t0.Before(measureFrom):
				case err != nil:
					me.errors["transport"]++
				case status == 200:
					me.latencies = append(me.latencies, took)
					me.paid = append(me.paid, inv.id)
				default:
					me.errors[strconv.Itoa(status)]++
				}
			}
		})
	}
	wg.Wait()
	elapsed := max(time.Since(measureFrom), time.Millisecond) // > 0 even if the pool ran dry in the warm-up

	var lat []time.Duration
	var paid []string
	errs := map[string]int{}
	for _, w := range workers {
		lat = append(lat, w.latencies...)
		paid = append(paid, w.paid...)
		for k, v := range w.errors {
			errs[k] += v
		}
	}
	return newLevelResult(n, rate, elapsed, lat, errs, exhausted.Load()), paid
}

// sleepUntil waits until t; it returns false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
