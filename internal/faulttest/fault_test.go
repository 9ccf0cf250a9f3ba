package faulttest

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// settings of a run, each overridable by an environment variable, sized so a
// run takes about two minutes on 2 cores under -race.
type settings struct {
	payments int           // FAULT_PAYMENTS: acknowledged payments to reach
	faults   int           // FAULT_FAULTS: faults to inject
	clients  int           // FAULT_CLIENTS: concurrent clients
	minLoad  time.Duration // FAULT_MIN_LOAD: shortest load phase
	maxLoad  time.Duration // FAULT_MAX_LOAD: longest load phase; targets unmet by then fail the test
}

func loadSettings(t testing.TB) settings {
	s := settings{payments: 6000, faults: 30, clients: 16, minLoad: 30 * time.Second, maxLoad: 6 * time.Minute}
	for name, set := range map[string]func(string) error{
		"FAULT_PAYMENTS": func(v string) (err error) { s.payments, err = strconv.Atoi(v); return },
		"FAULT_FAULTS":   func(v string) (err error) { s.faults, err = strconv.Atoi(v); return },
		"FAULT_CLIENTS":  func(v string) (err error) { s.clients, err = strconv.Atoi(v); return },
		"FAULT_MIN_LOAD": func(v string) (err error) { s.minLoad, err = time.ParseDuration(v); return },
		"FAULT_MAX_LOAD": func(v string) (err error) { s.maxLoad, err = time.ParseDuration(v); return },
	} {
		if v := os.Getenv(name); v != "" {
			if err := set(v); err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
		}
	}
	return s
}

// TestFaultSuite runs two serve and two relay processes of the built binary
// against a PostgreSQL cluster and a nats-server of its own, has clients
// create, issue and pay invoices while faults are injected until the targets
// are met, waits for the outbox to drain and checks the invariants on the
// database and the whole stream.
func TestFaultSuite(t *testing.T) {
	if os.Getenv("INVOICING_FAULT") == "" {
		t.Skip("the fault suite runs only with INVOICING_FAULT=1 (see doc.go)")
	}
	cfg := loadSettings(t)
	sys := startSystem(t, cfg.clients)
	stopProcs := sys.run(t)
	defer stopProcs()

	l := newLedger()
	races := &raceStats{byKind: map[string]int{}}
	started := time.Now()
	stopLoad := make(chan struct{})
	loadDone := make(chan []string, 1)
	go func() { loadDone <- sys.load(cfg.clients, l, races, stopLoad) }()

	in := &injector{pg: sys.pg, nats: sys.nats, serves: sys.serves, relays: sys.relays, admin: sys.dbURL, counts: map[string]int{}}
	injCtx, stopFaults := context.WithCancel(context.Background())
	injected := make(chan struct{})
	go func() { defer close(injected); in.run(injCtx) }()
	for tick := 1; ; tick++ {
		time.Sleep(time.Second)
		elapsed, payments, faults := time.Since(started), l.paymentCount(), in.total()
		if tick%15 == 0 {
			t.Logf("%s: %d payments acknowledged, %d faults injected", elapsed.Round(time.Second), payments, faults)
		}
		if (payments >= cfg.payments && faults >= cfg.faults && elapsed >= cfg.minLoad) || elapsed >= cfg.maxLoad {
			break
		}
	}
	stopFaults()
	<-injected // every server is up again; killed processes are being restarted
	close(stopLoad)
	loadErrs := <-loadDone
	loadTime := time.Since(started)

	drainStart := time.Now()
	backlog, err := waitDrained(context.Background(), sys.dbURL, 3*time.Minute)
	if err != nil {
		t.Error(err)
	}
	drainTime := time.Since(drainStart)
	stopProcs()

	v, notes, err := check(context.Background(), sys.dbURL, sys.nats.URL(), l)
	if err != nil {
		t.Fatalf("invariant checker: %v", err)
	}
	st := sys.stats
	rep := report{NATS: sys.nats.describe(), Verdict: v, Faults: in.counts, Races: races.byKind,
		LoadTime: loadTime, DrainTime: drainTime, Backlog: backlog,
		Acked: l.paymentCount(), Requests: st.requests.Load(), Replayed: st.replayed.Load(),
		Retries: map[string]int64{"network": st.retriesNet.Load(), "5xx": st.retries5xx.Load(),
			"409 idempotency_key_in_use": st.retriesInUse.Load()}}
	for _, p := range sys.procs() {
		rep.Starts += p.starts
		rep.FailedStarts += p.failedStarts
		rep.Crashes = append(rep.Crashes, p.crashes...)
	}
	t.Log(rep.String())
	if path := os.Getenv("FAULT_REPORT"); path != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Error(err)
		}
	}
	if len(in.errs) > 0 {
		t.Logf("faults skipped (the target was down): %v", in.errs)
	}

	for _, n := range notes {
		t.Log(n)
	}
	if b := v.broken(); len(b) > 0 {
		t.Errorf("invariants broken: %s", strings.Join(b, ", "))
	}
	if rep.Acked < cfg.payments || in.total() < cfg.faults {
		t.Errorf("targets not met in %s: %d payments (want %d), %d faults (want %d)", cfg.maxLoad, rep.Acked, cfg.payments, in.total(), cfg.faults)
	}
	if n := st.unexpected.Load(); n > 0 {
		t.Errorf("%d unexpected answers, e.g.:\n%s", n, strings.Join(st.unexpectedS, "\n"))
	}
	if n := st.gaveUp.Load(); n > 0 {
		t.Errorf("%d requests gave up after %s of retries; e.g.: %v", n, opTimeout, loadErrs[:min(len(loadErrs), 5)])
	}
	for _, c := range rep.Crashes {
		t.Errorf("a process exited without being killed: %s", c)
	}
}
