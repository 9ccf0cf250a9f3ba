// Command replicas measures commit-to-stream delay with several `invoicing
// serve` replicas on one database and one JetStream server: it starts the
// replicas (the first leads the relay), pays invoices at -rate payments/s
// spread evenly over them for -duration, and reports, per replica, the delay from each payment's commit to its
// invoicing.invoice.paid event being stored in the stream.
//
// Commit time is the event's CloudEvent time, set in the pay transaction
// just before it commits (so the figure includes the commit itself); stream
// time is the JetStream message's stored timestamp. Both come from this
// machine's clock. NATS is an embedded nats-server of its own (never the
// machine's :4222) and the database one of its own, dropped at the end.
//
//	go run ./bench/replicas -bin ./invoicing -json result.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/invoicing-dev/invoicing/tools/stages"

	"github.com/nats-io/nats-server/v2/server"
)

// result is the JSON report.
type result struct {
	NATS        string          `json:"nats"`
	Rate        float64         `json:"rate"`
	DurationS   float64         `json:"duration_s"`
	WarmupS     float64         `json:"warmup_s"`
	PollS       float64         `json:"relay_poll_interval_s"`
	TargetP99MS float64         `json:"target_p99_ms"`
	Replicas    []replicaResult `json:"replicas"`
	// LeaderStages is the leading relay's time per stage over the payments
	// counted, by stage; Load1 the load average when they were paid.
	LeaderStages map[string]stages.Result `json:"leader_stages,omitempty"`
	Load1        float64                  `json:"load1"`
}

// replicaResult is one replica's figures, over the payments made through it
// after the warm-up.
type replicaResult struct {
	Index    int     `json:"index"`
	Leader   bool    `json:"leader"`
	Payments int     `json:"payments"`
	Errors   int     `json:"errors"`
	Events   int     `json:"events"`
	P50MS    float64 `json:"p50_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
	// Over half the poll interval: events a missed wake-up left to the poll.
	Late int `json:"late"`
}

func main() {
	bin := flag.String("bin", "", "the invoicing binary to run (required)")
	pg := flag.String("pg", "postgres://postgres@127.0.0.1:5432", "PostgreSQL server URL, without database")
	n := flag.Int("replicas", 3, "serve replicas")
	rate := flag.Float64("rate", 30, "payments/s, spread evenly over the replicas")
	duration := flag.Duration("duration", 25*time.Second, "how long to pay")
	warmup := flag.Duration("warmup", 3*time.Second, "payments started in this first part are not counted")
	poll := flag.Duration("poll", time.Second, "RELAY_POLL_INTERVAL of the replicas (the fallback a missed wake-up waits for)")
	jsonOut := flag.String("json", "", "also write the result as JSON to this file")
	work := flag.String("work", "", "directory for the replicas' logs (default: a temporary one, removed)")
	flag.Parse()
	if *bin == "" || *n < 2 || *rate <= 0 || *duration <= *warmup || *duration > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "replicas: need -bin, -replicas >= 2, -rate > 0 and -warmup < -duration <= 10m")
		os.Exit(2)
	}
	res, err := measure(*bin, *pg, *n, *rate, *duration, *warmup, *poll, *work)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
	printTable(os.Stdout, res)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "replicas:", err)
			os.Exit(1)
		}
	}
}

// measure sets everything up, pays, and tears it down.
func measure(bin, pg string, n int, rate float64, duration, warmup, poll time.Duration, work string) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), duration+5*time.Minute)
	defer cancel()
	if work == "" {
		dir, err := os.MkdirTemp("", "bench-replicas-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	ns, err := startNATS(work)
	if err != nil {
		return nil, err
	}
	defer ns.Shutdown()
	dbURL, drop, err := createDatabase(ctx, pg)
	if err != nil {
		return nil, err
	}
	defer drop()
	env := []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + dbURL, "NATS_URL=" + ns.ClientURL(),
		"HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=info", "RELAY_POLL_INTERVAL=" + poll.String()}
	if _, err := runBin(ctx, bin, env, "migrate", "up"); err != nil {
		return nil, err
	}
	out, err := runBin(ctx, bin, env, "apikey", "create", "--tenant", "bench")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	c := &api{key: lines[len(lines)-1]}

	// The first replica leads; the others start once it does.
	for i := 0; i < n; i++ {
		r, err := startReplica(bin, env, fmt.Sprintf("%s/serve-%d.log", work, i))
		if err != nil {
			return nil, err
		}
		defer r.stop()
		addr, err := r.waitAddr(30 * time.Second)
		if err != nil {
			return nil, fmt.Errorf("replica %d: %w (log: %s/serve-%d.log)", i, err, work, i)
		}
		c.bases = append(c.bases, "http://"+addr)
		if i == 0 {
			select {
			case <-r.leading:
			case <-time.After(30 * time.Second):
				return nil, fmt.Errorf("replica 0 did not lead within 30s (log: %s/serve-0.log)", work)
			}
		}
	}

	total := int(rate * duration.Seconds())
	fmt.Fprintf(os.Stderr, "replicas: %d replicas up; creating %d open invoices\n", n, total)
	ids, err := c.openInvoices(ctx, total)
	if err != nil {
		return nil, err
	}
	w, err := watch(ctx, ns.ClientURL())
	if err != nil {
		return nil, err
	}
	defer w.close()

	fmt.Fprintf(os.Stderr, "replicas: paying %d invoices at %.0f/s over %d replicas\n", total, rate, n)
	start := time.Now()
	leaderMetrics := c.bases[0] + "/metrics"
	warm := stages.ScrapeAfter(ctx, leaderMetrics, warmup, os.Stderr)
	via := make([]int, total) // replica of each payment
	failed := make([]bool, total)
	var wg sync.WaitGroup
	for k := 0; k < total; k++ {
		time.Sleep(time.Until(start.Add(time.Duration(float64(k) / rate * float64(time.Second)))))
		via[k] = k % n
		wg.Add(1)
		go func() {
			defer wg.Done()
			failed[k] = c.pay(ctx, via[k], ids[k]) != nil
		}()
	}
	wg.Wait()
	counted := ids[int(rate*warmup.Seconds()):]
	delays := w.wait(counted, 15*time.Second)
	load1 := loadAverage()
	paid, err := stages.Scrape(ctx, leaderMetrics)
	if err != nil {
		return nil, err
	}

	res := &result{NATS: "embedded nats-server " + server.VERSION, Rate: rate, DurationS: duration.Seconds(),
		WarmupS: warmup.Seconds(), PollS: poll.Seconds(), TargetP99MS: 25,
		LeaderStages: stages.Between(<-warm, paid), Load1: load1}
	for i := 0; i < n; i++ {
		rr := replicaResult{Index: i, Leader: c.leads(ctx, i)}
		var ds []time.Duration
		for k := int(rate * warmup.Seconds()); k < total; k++ {
			if via[k] != i {
				continue
			}
			rr.Payments++
			if failed[k] {
				rr.Errors++
			}
			if d, ok := delays[ids[k]]; ok {
				ds = append(ds, d)
				if d > poll/2 {
					rr.Late++
				}
			}
		}
		slices.Sort(ds)
		rr.Events = len(ds)
		if len(ds) > 0 {
			rr.P50MS, rr.P99MS, rr.MaxMS = ms(ds[(len(ds)-1)/2]), ms(ds[(len(ds)*99+99)/100-1]), ms(ds[len(ds)-1])
		}
		res.Replicas = append(res.Replicas, rr)
	}
	return res, nil
}

// loadAverage returns the 1-minute load average, 0 if unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// printTable writes the result against the target.
func printTable(w io.Writer, r *result) {
	fmt.Fprintf(w, "commit-to-stream, %d replicas, %.0f payments/s spread evenly, %.0f s (first %.0f s not counted), %s, RELAY_POLL_INTERVAL=%gs\n",
		len(r.Replicas), r.Rate, r.DurationS, r.WarmupS, r.NATS, r.PollS)
	fmt.Fprintf(w, "%-8s %-8s %9s %7s %7s %9s %9s %9s %6s  %s\n", "replica", "role", "payments", "errors", "events", "p50 ms", "p99 ms", "max ms", "late", "p99 <= 25 ms")
	for _, x := range r.Replicas {
		role, met := "follower", "yes"
		if x.Leader {
			role = "leader"
		}
		if x.P99MS > r.TargetP99MS || x.Events < x.Payments || x.Errors > 0 {
			met = "NO"
		}
		fmt.Fprintf(w, "%-8d %-8s %9d %7d %7d %9.1f %9.1f %9.1f %6d  %s\n", x.Index, role, x.Payments, x.Errors, x.Events, x.P50MS, x.P99MS, x.MaxMS, x.Late, met)
	}
	fmt.Fprintf(w, "load average %.2f; leader's relay, p99 per stage (ms):", r.Load1)
	for _, s := range stages.Order {
		if st, ok := r.LeaderStages[s]; ok {
			fmt.Fprintf(w, " %s %.1f", s, st.P99)
		} else {
			fmt.Fprintf(w, " %s -", s)
		}
	}
	fmt.Fprintln(w)
}

// api calls the replicas' API with one tenant's key.
type api struct {
	key   string
	bases []string
}

// leads reports whether replica i's /metrics says its relay leads.
func (c *api) leads(ctx context.Context, i int) bool {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.bases[i]+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(b), "\nrelay_leader 1\n")
}
