// Command invoicing-load measures the invoicing service through its public
// HTTP API only. Before each concurrency level of a list it creates and
// issues invoices (untimed) until -invoices are open, then pays them (one full payment per invoice, each with a
// unique reference) for a fixed duration, and reports requests/s, latency
// percentiles and errors by status. With -wait-events it also follows
// invoicing.invoice.paid on the INVOICING JetStream stream and reports the
// delay from each event's CloudEvent time (the service's occurred_at) to its
// arrival.
//
//	invoicing-load -key inv_... -concurrency 1,4,16,64 -duration 15s -invoices 60000
//	invoicing-load -key inv_... -concurrency 16 -rate 500 -nats-url nats://127.0.0.1:4222 -wait-events -json
//
// Every loop is bounded by -duration (at most 10m a level) and by the
// invoices created; targets must be loopback addresses unless -allow-remote.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/invoicing-dev/invoicing/tools/stages"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "invoicing-load:", err)
		os.Exit(1)
	}
}

// run parses args, prepares invoices, runs every level and writes the report
// to stdout (progress goes to stderr). It returns the first error that stops
// the run: bad flags, an unreachable target, a failed setup request.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	c := newClient(opts.url, opts.key, maxOf(opts.levels)+opts.setupConcurrency)
	var w *watcher
	if opts.waitEvents {
		if w, err = newWatcher(ctx, opts.natsURL); err != nil {
			return err
		}
		defer w.close()
	}
	var rep report
	p := &pool{}
	for _, n := range opts.levels {
		if ctx.Err() != nil {
			break
		}
		// Top up rather than create everything up front: a level that pays
		// fast must not starve the next, and leftovers are not wasted.
		if need := opts.invoices - p.remaining(); need > 0 {
			started := time.Now()
			fmt.Fprintf(stderr, "creating and issuing %d invoices (%d at a time)...\n", need, opts.setupConcurrency)
			invoices, err := c.prepare(ctx, need, opts.setupConcurrency)
			if err != nil {
				return err
			}
			p.add(invoices)
			rep.Invoices += need
			fmt.Fprintf(stderr, "  done in %s\n", time.Since(started).Round(time.Millisecond))
		}
		if w != nil {
			if err := w.start(ctx); err != nil {
				return err
			}
		}
		fmt.Fprintf(stderr, "paying at concurrency %d for %s...\n", n, opts.duration)
		var before <-chan map[string]stages.Histogram
		if opts.metricsURL != "" {
			before = stages.ScrapeAfter(ctx, opts.metricsURL, opts.warmup, stderr)
		}
		res, paid := payLevel(ctx, c, p, n, opts.duration, opts.warmup, opts.rate)
		// bench/run.sh watches for this line to stop sampling the service.
		fmt.Fprintf(stderr, "finished concurrency %d: %d paid, %.0f/s\n", n, res.OK, res.RPS)
		if w != nil {
			ev, err := w.wait(ctx, paid, opts.waitTimeout)
			if err != nil {
				return err
			}
			res.Events = &ev
		}
		if before != nil {
			after, err := stages.Scrape(ctx, opts.metricsURL)
			if err != nil {
				return err
			}
			res.Stages = stages.Between(<-before, after)
		}
		rep.Levels = append(rep.Levels, res)
	}
	if opts.json {
		return rep.writeJSON(stdout)
	}
	return rep.writeTable(stdout)
}

// maxOf returns the largest of ns, or 0.
func maxOf(ns []int) int {
	m := 0
	for _, n := range ns {
		m = max(m, n)
	}
	return m
}

// errSetup marks a failure while preparing invoices.
var errSetup = errors.New("setup failed")
