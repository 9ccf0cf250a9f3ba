package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
)

// TestFaultPostgresFailover runs two serve processes (relaying too) and one
// notify process of the built binary on a three-member Patroni cluster in
// synchronous mode, on a multi-host DATABASE_URL that finds the primary
// (target_session_attrs=read-write), with a nats-server, an SMTP server and a
// webhook receiver of its own. While clients create, issue and pay invoices
// (every change under an Idempotency-Key, retried with the same key on 503
// and network errors), it injects, in turn: kill -9 of the primary's
// postmaster (Patroni restarts it), a switchover to the synchronous standby,
// and a restart of the synchronous standby; FAULT_FAILOVER_ROUNDS times
// (default 2), with FAULT_FAILOVER_CLIENTS clients (default 3; the fault
// suite's FAULT_CLIENTS sizes that suite only). Then, from outside:
//   - every acknowledged change is in the database once, and every committed
//     event in the stream once, in version order per invoice (the fault
//     suite's checker);
//   - the event feed of each tenant holds every committed event once;
//   - every issued, paid and voided event was emailed, under one Message-ID
//     per event, and every event reached the tenant's webhook receiver under
//     its webhook-id;
//   - no River task is left running, waiting or given up.
//
// It logs its timeline and, per fault, how long requests failed (the window
// from the fault to the last failed attempt) and how they failed; the figures
// of runs are in docs/reliability.md. It runs only when INVOICING_FAULT=1,
// and fails if patroni or etcd is missing (.ci/run installs both):
//
//	INVOICING_FAULT=1 go test -count=1 -run '^TestFaultPostgresFailover$' -v ./internal/faulttest
func TestFaultPostgresFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("a fault run: not under -short")
	}
	if os.Getenv("INVOICING_FAULT") == "" {
		t.Skip("the failover fault test runs only with INVOICING_FAULT=1 (see doc.go)")
	}
	rounds := positiveEnv(t, "FAULT_FAILOVER_ROUNDS", 2)
	clients := positiveEnv(t, "FAULT_FAILOVER_CLIENTS", 3)
	tl := timeline{t: t, start: time.Now()}

	pc := startPatroni(t)
	ms, _ := pc.cluster()
	tl.mark("Patroni cluster up: %s", describeMembers(ms))
	nats := startNATS(t)
	mail := smtptest.New(t)
	hooks := newHookReceiver(t)
	sys := startSystemWith(t, clients, pc, nats.URL(), nil, "WEBHOOKS_ENABLED=true", "WEBHOOK_ALLOW_PRIVATE_URLS=true",
		"WEBHOOK_TIMEOUT=2s", "WEBHOOK_RETRY_SCHEDULE=200ms,500ms,1s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s")
	sys.nats = nats
	notifyAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	sys.others = append(sys.others, &proc{name: "notify", bin: sys.bin, args: []string{"notify"},
		logPath: filepath.Join(sys.logs, "notify.log"),
		env: sys.env("notify", "HTTP_ADDR="+notifyAddr, "SMTP_URL="+mail.URL(), "MAIL_DOMAIN=failover.test",
			"NOTIFY_RETRY_BASE=100ms", "NOTIFY_RETRY_MAX=2s", "NOTIFY_SEND_TIMEOUT=5s")})
	stopProcs := sys.run(t)
	defer stopProcs()
	for _, c := range sys.clients {
		body, _ := json.Marshal(map[string]any{"url": hooks.url(c.tenant), "enabled_events": []string{"*"}})
		a, err := c.post(context.Background(), "/v1/webhook_endpoints", body)
		if err != nil || a.status != http.StatusCreated {
			t.Fatalf("register the webhook endpoint of %s: %v %d %s", c.tenant, err, a.status, a.body)
		}
	}
	tl.mark("serve ×2 (relaying) and notify running on %s; a webhook endpoint per tenant", pc.URL("invoicing", "…"))

	l := newLedger()
	races := &raceStats{byKind: map[string]int{}}
	stopLoad := make(chan struct{})
	loadDone := make(chan []string, 1)
	go func() { loadDone <- sys.load(clients, l, races, stopLoad) }()
	tl.mark("load: %d clients", clients)

	const settle = 8 * time.Second // load between faults, with the cluster whole
	ctx := context.Background()
	windows := map[string][]time.Duration{}
	var faultOrder []string
	var failedRequests []attemptAt
	for round := 1; round <= rounds; round++ {
		for _, f := range failoverFaults(pc) {
			time.Sleep(settle)
			before := l.paymentCount()
			was, err := pc.cluster()
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			victim, err := f.inject(ctx)
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, f.name, err)
			}
			tl.mark("round %d: %s (%s), %d payments acknowledged so far", round, f.name, victim, before)
			ms, err := pc.waitFor(90*time.Second, 3, func(now []clusterMember) error { return f.done(was, now) })
			if err != nil {
				t.Fatalf("round %d, after %s: %v", round, f.name, err)
			}
			tl.mark("round %d: cluster whole again %s after the fault: %s", round, time.Since(start).Round(100*time.Millisecond), describeMembers(ms))
			time.Sleep(settle)
			fails := sys.stats.failuresBetween(start, time.Now())
			failedRequests = append(failedRequests, fails...)
			window := time.Duration(0)
			if len(fails) > 0 {
				window = fails[len(fails)-1].at.Sub(start)
			}
			if !slices.Contains(faultOrder, f.name) {
				faultOrder = append(faultOrder, f.name)
			}
			windows[f.name] = append(windows[f.name], window)
			tl.mark("round %d: %s: requests failed for %s (%s); %d payments acknowledged since",
				round, f.name, window.Round(10*time.Millisecond), describeFailures(fails), l.paymentCount()-before)
		}
	}
	close(stopLoad)
	loadErrs := <-loadDone
	tl.mark("load stopped: %d payments acknowledged", l.paymentCount())

	backlog, err := waitDrained(ctx, sys.dbURL, 3*time.Minute)
	if err != nil {
		t.Error(err)
	}
	tl.mark("outbox drained (%d events were unpublished when the load stopped)", backlog)
	events, err := committedEvents(ctx, sys.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	deliveries := waitNotified(ctx, sys.dbURL, events, mail, hooks, 3*time.Minute)
	tl.mark("notify settled: %s", deliveries)
	feedErr := checkFeeds(ctx, sys, events)
	stopProcs()
	tl.mark("processes stopped")

	v, notes, err := check(ctx, sys.dbURL, nats.URL(), l)
	if err != nil {
		t.Fatalf("invariant checker: %v", err)
	}
	t.Logf("%d invoices (%d issued, %d paid), %d payments (%d acknowledged to clients), %d events, %d stream messages; requests %d, replayed %d, 503s %d, network errors %d",
		v.Invoices, v.Issued, v.Paid, v.Payments, l.paymentCount(), v.Events, v.StreamMessages,
		sys.stats.requests.Load(), sys.stats.replayed.Load(), sys.stats.retries5xx.Load(), sys.stats.retriesNet.Load())
	for _, name := range faultOrder {
		ws := windows[name]
		t.Logf("unavailability after %s, over %d rounds: p50 %s, max %s (each: %v)", name, len(ws),
			percentile(ws, 50).Round(10*time.Millisecond), slices.Max(ws).Round(10*time.Millisecond), roundAll(ws))
	}
	t.Logf("failed attempts during the faults: %s", describeFailures(failedRequests))
	t.Logf("emails and webhooks: %s", deliveries)
	for _, n := range notes {
		t.Log(n)
	}
	if b := v.broken(); len(b) > 0 {
		t.Errorf("invariants broken: %s", strings.Join(b, ", "))
	}
	if feedErr != nil {
		t.Error(feedErr)
	}
	for _, p := range deliveries.problems() {
		t.Error(p)
	}
	if v.Paid == 0 {
		t.Error("no invoice was paid: no load")
	}
	sys.checkAnswers(t, loadErrs)
}

// positiveEnv returns the positive number in the environment variable name,
// or def if it is unset; anything else fails the test.
func positiveEnv(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// failoverFault is one fault of the failover test: inject returns the
// member it hit; done tells, from the members before and now, whether the
// fault has run its course (the cluster being whole again besides).
type failoverFault struct {
	name   string
	inject func(ctx context.Context) (string, error)
	done   func(before, now []clusterMember) error
}

// failoverFaults are the faults of one round, in order.
func failoverFaults(pc *patroniCluster) []failoverFault {
	return []failoverFault{
		{"kill -9 of the primary's postmaster", func(context.Context) (string, error) {
			m, err := pc.withRole("leader")
			if err != nil {
				return "", err
			}
			return m.name, pc.killPostmaster(m)
		}, func(before, now []clusterMember) error {
			// Patroni restarts the crashed primary read-only, then promotes
			// it (or another member) onto a new timeline.
			if b, n := leader(before), leader(now); n.TL <= b.TL {
				return fmt.Errorf("the leader %s is still on timeline %d", n.Name, n.TL)
			}
			return nil
		}},
		{"switchover", func(ctx context.Context) (string, error) {
			m, err := pc.withRole("leader")
			if err != nil {
				return "", err
			}
			return "from " + m.name, pc.rest(ctx, m, "/switchover", map[string]string{"leader": m.name})
		}, func(before, now []clusterMember) error {
			if b, n := leader(before), leader(now); n.Name == b.Name {
				return fmt.Errorf("%s still leads", n.Name)
			}
			return nil
		}},
		{"synchronous standby restarted", func(ctx context.Context) (string, error) {
			m, err := pc.withRole("sync_standby")
			if err != nil {
				return "", err
			}
			return m.name, pc.rest(ctx, m, "/restart", map[string]string{})
		}, func(before, now []clusterMember) error { return nil }}, // the REST call returns once restarted
	}
}

// timeline logs what happens, each line with the time since the test began.
type timeline struct {
	t     *testing.T
	start time.Time
}

func (tl timeline) mark(format string, args ...any) {
	tl.t.Helper()
	tl.t.Logf("%6.1fs  %s", time.Since(tl.start).Seconds(), fmt.Sprintf(format, args...))
}

func describeMembers(ms []clusterMember) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%s %s (%s, timeline %d)", m.Name, m.Role, m.State, m.TL)
	}
	return strings.Join(parts, ", ")
}

// describeFailures counts failed attempts by answer.
func describeFailures(fs []attemptAt) string {
	by := map[string]int{}
	for _, f := range fs {
		switch {
		case f.status == 0:
			by["network error"]++
		case f.problem != "":
			by[fmt.Sprintf("%d %s", f.status, f.problem)]++
		default:
			by[strconv.Itoa(f.status)]++
		}
	}
	return counts(by)
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[(len(s)-1)*p/100]
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(10 * time.Millisecond)
	}
	return out
}
