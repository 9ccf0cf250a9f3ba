package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bounds that keep a mistyped flag from running for hours.
const (
	maxDuration    = 10 * time.Minute
	maxInvoices    = 2_000_000
	maxConcurrency = 1024
)

// options is the parsed command line.
type options struct {
	url, key, natsURL string
	metricsURL        string        // the relay's /metrics, for its stage figures; "" = none
	levels            []int         // concurrencies to run, in order
	duration          time.Duration // per level
	warmup            time.Duration // start of each level left out of the figures
	invoices          int           // open invoices ready at the start of each level
	setupConcurrency  int
	rate              float64 // total payments/s cap; 0 = as fast as possible
	waitEvents        bool
	waitTimeout       time.Duration
	json              bool
	allowRemote       bool
}

// parseOptions reads flags, with defaults from LOAD_URL, LOAD_API_KEY and
// LOAD_NATS_URL. It returns an error naming the first invalid flag.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("invoicing-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	levels := fs.String("concurrency", "1,4,16,64", "comma-separated concurrencies, run in order")
	fs.StringVar(&o.url, "url", orDefault(getenv("LOAD_URL"), "http://127.0.0.1:8080"), "service base URL (env LOAD_URL)")
	fs.StringVar(&o.key, "key", getenv("LOAD_API_KEY"), "API key (env LOAD_API_KEY)")
	fs.StringVar(&o.natsURL, "nats-url", orDefault(getenv("LOAD_NATS_URL"), "nats://127.0.0.1:4222"), "NATS URL for -wait-events (env LOAD_NATS_URL)")
	fs.StringVar(&o.metricsURL, "metrics-url", "", "the relay's /metrics: report its time per stage over each level's measured part")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "how long each level pays (at most 10m)")
	fs.DurationVar(&o.warmup, "warmup", 0, "leave payments started in each level's first part out of the figures")
	fs.IntVar(&o.invoices, "invoices", 10_000, "open invoices to have ready before each level (created untimed); a level stops early when they run out")
	fs.IntVar(&o.setupConcurrency, "setup-concurrency", 16, "concurrent requests while creating invoices")
	fs.Float64Var(&o.rate, "rate", 0, "cap on payments/s across all workers (0 = no cap)")
	fs.BoolVar(&o.waitEvents, "wait-events", false, "follow invoicing.invoice.paid and report commit-to-delivery latency")
	fs.DurationVar(&o.waitTimeout, "wait-timeout", 30*time.Second, "how long to wait for the last paid events after a level")
	fs.BoolVar(&o.json, "json", false, "write the report as JSON instead of a table")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow non-loopback targets")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.levels, err = parseLevels(*levels); err != nil {
		return options{}, fmt.Errorf("-concurrency: %w", err)
	}
	var errs []error
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, errors.New(msg))
		}
	}
	check(o.key != "", "-key (or LOAD_API_KEY) is required")
	check(o.duration > 0 && o.duration <= maxDuration, "-duration must be in (0, 10m]")
	check(o.warmup >= 0 && o.warmup < o.duration, "-warmup must be in [0, -duration)")
	check(o.invoices > 0 && o.invoices <= maxInvoices, "-invoices must be 1..2,000,000")
	check(o.setupConcurrency > 0 && o.setupConcurrency <= maxConcurrency, "-setup-concurrency must be 1..1024")
	check(o.rate >= 0, "-rate must not be negative")
	check(o.waitTimeout > 0 && o.waitTimeout <= maxDuration, "-wait-timeout must be in (0, 10m]")
	if !o.allowRemote {
		check(isLoopback(o.url), "-url must be a loopback address (or pass -allow-remote)")
		check(!o.waitEvents || isLoopback(o.natsURL), "-nats-url must be a loopback address (or pass -allow-remote)")
		check(o.metricsURL == "" || isLoopback(o.metricsURL), "-metrics-url must be a loopback address (or pass -allow-remote)")
	}
	if err := errors.Join(errs...); err != nil {
		return options{}, err
	}
	o.url = strings.TrimRight(o.url, "/")
	return o, nil
}

// parseLevels parses "1,4,16,64"; it fails on an empty list or a number
// outside 1..1024.
func parseLevels(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxConcurrency {
			return nil, fmt.Errorf("%q is not a concurrency in 1..1024", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// isLoopback reports whether raw is a URL whose host is localhost or a
// loopback IP address.
func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
