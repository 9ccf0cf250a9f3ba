package faulttest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// system is the service under test: the built binary as two serve and two
// relay processes, on a PostgreSQL cluster and a nats-server of the suite's
// own, and one API client per tenant.
type system struct {
	bin     string   // the built binary
	db      database // the PostgreSQL the processes run on
	logs    string   // the directory of the processes' logs
	env     func(app string, extra ...string) []string
	pg      *pgCluster // nil on a cluster of another kind
	nats    *natsServer
	others  []*proc // further processes, supervised like the rest (notify)
	dbURL   string  // the suite's own connection (leader lookups, drain, checks)
	serves  []*proc
	relays  []*proc
	clients []*client
	stats   *stats
}

// startSystem builds the binary, starts the servers, migrates the database,
// creates three tenants' API keys and prepares (without starting) the
// processes. It fails the test if any step fails.
func startSystem(t *testing.T, clients int) *system {
	t.Helper()
	nats := startNATS(t)
	s := startSystemOn(t, clients, nats.URL())
	s.nats = nats
	return s
}

// startSystemOn is startSystem on the NATS servers at natsURL (a
// comma-separated list), every process with the extra environment
// variables (NAME=value); system.nats is left nil.
func startSystemOn(t *testing.T, clients int, natsURL string, extraEnv ...string) *system {
	t.Helper()
	pg := startPG(t)
	s := startSystemWith(t, clients, pg, natsURL, []string{"relay-1", "relay-2"}, extraEnv...)
	s.pg = pg
	return s
}

// database is the PostgreSQL a system runs on: one server or a cluster.
type database interface {
	// URL returns the URL of database db, the sessions named app.
	URL(db, app string) string
}

// startSystemWith is startSystemOn on db, with one relay process per name
// in relays (none: the serve processes relay); system.pg is left nil.
func startSystemWith(t *testing.T, clients int, db database, natsURL string, relays []string, extraEnv ...string) *system {
	t.Helper()
	ctx := context.Background()
	bin := buildBinary(t)
	s := &system{stats: &stats{}, bin: bin, db: db}
	s.dbURL = db.URL("invoicing", "faulttest")
	createDatabase(t, db.URL("postgres", "faulttest"), "invoicing")
	logs := t.TempDir()
	s.logs = logs
	env := func(app string, extra ...string) []string {
		return slices.Concat([]string{"PATH=" + os.Getenv("PATH"), "LOG_LEVEL=warn", "NATS_URL=" + natsURL,
			"DATABASE_URL=" + db.URL("invoicing", app), "RELAY_POLL_INTERVAL=250ms", "SHUTDOWN_TIMEOUT=5s"}, extraEnv, extra)
	}
	s.env = env
	if _, err := runOnce(ctx, bin, env("migrate"), "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	httpc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * clients}}
	var bases []string
	for _, name := range []string{"serve-a", "serve-b"} {
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		bases = append(bases, "http://"+addr)
		s.serves = append(s.serves, &proc{name: name, bin: bin, args: []string{"serve"}, logPath: filepath.Join(logs, name+".log"),
			env: env(name, "HTTP_ADDR="+addr, "RELAY_ENABLED=true"), ready: httpReady(httpc, "http://"+addr)})
	}
	for _, name := range relays {
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t)) // its /healthz, /readyz, /metrics
		s.relays = append(s.relays, &proc{name: name, bin: bin, args: []string{"relay"}, logPath: filepath.Join(logs, name+".log"),
			env: env(name, "HTTP_ADDR="+addr)})
	}
	for i := range 3 {
		tenant := fmt.Sprintf("tenant-%d", i+1)
		out, err := runOnce(ctx, bin, env("apikey"), "apikey", "create", "--tenant", tenant)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		s.clients = append(s.clients, &client{http: httpc, bases: bases, key: lines[len(lines)-1], tenant: tenant, stats: s.stats})
	}
	return s
}

// procs returns every process.
func (s *system) procs() []*proc { return slices.Concat(s.serves, s.relays, s.others) }

// run starts every process under its supervisor and waits until both serve
// processes answer. The returned func stops them all (SIGTERM) and waits.
func (s *system) run(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, p := range s.procs() {
		wg.Go(func() { p.supervise(ctx) })
	}
	stop = sync.OnceFunc(func() { cancel(); wg.Wait() })
	for _, p := range s.serves {
		if err := p.ready(ctx, nil); err != nil {
			stop()
			t.Fatalf("%s: %v\n%s", p.name, err, tail(p.logPath, 20))
		}
	}
	return stop
}

// load runs n clients, each driving one invoice after another through the
// workload, until stop is closed; each then finishes its invoice. It returns
// the errors of invoices that could not be finished.
func (s *system) load(n int, l *ledger, races *raceStats, stop <-chan struct{}) []string {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for i := range n {
		w := &workload{c: s.clients[i%len(s.clients)], ledger: l, races: races}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := w.oneInvoice(context.Background()); err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errs
}

// checkAnswers fails the test for each unexpected answer, request given up
// (loadErrs being what load returned) and process that exited unkilled.
func (s *system) checkAnswers(t *testing.T, loadErrs []string) {
	t.Helper()
	if n := s.stats.unexpected.Load(); n > 0 {
		t.Errorf("%d unexpected answers, e.g.:\n%s", n, strings.Join(s.stats.unexpectedS, "\n"))
	}
	if n := s.stats.gaveUp.Load(); n > 0 {
		t.Errorf("%d requests gave up after %s of retries; e.g.: %v", n, opTimeout, loadErrs[:min(len(loadErrs), 5)])
	}
	for _, p := range s.procs() {
		for _, c := range p.crashes {
			t.Errorf("a process exited without being killed: %s", c)
		}
	}
}

// createDatabase creates database name through the server at adminURL.
func createDatabase(t testing.TB, adminURL, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
}

// httpReady returns a check that waits up to 20s for base to serve the
// OpenAPI document, failing early if exited is closed.
func httpReady(c *http.Client, base string) func(ctx context.Context, exited <-chan struct{}) error {
	if !strings.HasPrefix(base, "http://") {
		base = "http://" + base
	}
	return func(ctx context.Context, exited <-chan struct{}) error {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/openapi.yaml", nil)
			if res, err := c.Do(req); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return nil
				}
			}
			select {
			case <-exited:
				return errExited
			case <-ctx.Done():
				return fmt.Errorf("%s not serving: %w", base, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// waitDrained waits until every outbox row is published and returns how
// many were unpublished when it began. It fails if rows stay unpublished
// past timeout, naming how many and how many are parked.
func waitDrained(ctx context.Context, dbURL string, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	backlog, pending, parked := -1, 0, 0
	for time.Now().Before(deadline) {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := pgx.Connect(qctx, dbURL)
		if err == nil {
			err = conn.QueryRow(qctx, `SELECT
  (SELECT count(*) FROM outbox o, outbox_position p WHERE p.partition = 0 AND ((o.txid, o.sequence) > (p.txid, p.sequence) OR EXISTS (SELECT 1 FROM outbox_held h WHERE h.sequence = o.sequence))),
  (SELECT count(*) FROM outbox_held WHERE failed_at IS NOT NULL)`).Scan(&pending, &parked)
			conn.Close(qctx)
		}
		cancel()
		if err == nil && backlog < 0 {
			backlog = pending
		}
		if err == nil && pending == 0 {
			return backlog, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return backlog, fmt.Errorf("outbox not drained after %s: %d events unpublished, %d of them parked", timeout, pending, parked)
}
