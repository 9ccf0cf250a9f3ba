package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-io/nats.go"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// buildBinary builds cmd/invoicing into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "invoicing")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is the binary running as a subprocess.
type process struct {
	cmd  *exec.Cmd
	addr chan string
	logs *syncBuffer
	exit chan error
}

// startProcess runs bin with args and exactly the environment vars (and
// PATH, and NATS_URL noNATS unless vars sets it), collecting its stdout logs.
func startProcess(t *testing.T, bin string, vars map[string]string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NATS_URL=" + noNATS} // a later NATS_URL wins
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, addr: make(chan string, 1), logs: &syncBuffer{}, exit: make(chan error, 1)}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			_, _ = p.logs.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				p.addr <- line.Addr
			}
		}
		p.exit <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return p
}

// outcome is one request of the burst.
type outcome struct {
	kind   string // create or pay
	ref    string // the invoice id (create) or payment reference (pay)
	status int    // 0 if err
	err    error
	sent   time.Time
	done   time.Time
}

// TestSIGTERMDuringABurstLosesNoAcceptedRequest runs the built binary, fires
// concurrent creates and payments at it, and sends SIGTERM mid-burst, while
// one request is deliberately still sending its body. It expects: exit code
// 0; that slow request answered 201; no 5xx; new connections refused once the
// listener is closed; every 2xx change in the database with its events, and
// every event published (the relay drains before the process exits).
func TestSIGTERMDuringABurstLosesNoAcceptedRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	natsURL := natstest.New(t).URL()
	dbURL := pgtest.NewURL(t)
	bin := buildBinary(t)
	var out strings.Builder
	if err := run(context.Background(), []string{"apikey", "create", "--tenant", "acme"}, env(map[string]string{"DATABASE_URL": dbURL}), &out); err != nil {
		t.Fatal(err)
	}
	key := lastLine(out.String())

	p := startProcess(t, bin, map[string]string{"DATABASE_URL": dbURL, "NATS_URL": natsURL, "HTTP_ADDR": "127.0.0.1:0", "SHUTDOWN_TIMEOUT": "15s"}, "serve")
	var base string
	select {
	case addr := <-p.addr:
		base = "http://" + addr
	case err := <-p.exit:
		t.Fatalf("serve exited before listening: %v\n%s", err, p.logs)
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not listen within 15s\n%s", p.logs)
	}

	const workers = 16
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	post := func(path, body string) (int, []byte, error) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, b, err
	}
	const newInvoice = `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","lines":[{"description":"Consulting","quantity":2,"unit_amount":5000,"tax_rate_bps":2000}]}`

	// Open invoices for the burst to pay, each once.
	open := make(chan string, 200)
	var prep sync.WaitGroup
	for w := range 8 {
		prep.Go(func() {
			for range 200 / 8 {
				status, b, err := post("/v1/invoices", newInvoice)
				var inv struct{ ID string }
				if err != nil || status != 201 || json.Unmarshal(b, &inv) != nil {
					t.Errorf("worker %d: create: %d %v %s", w, status, err, b)
					return
				}
				if status, b, err := post("/v1/invoices/"+inv.ID+"/issue", ""); err != nil || status != 200 {
					t.Errorf("worker %d: issue: %d %v %s", w, status, err, b)
					return
				}
				open <- inv.ID
			}
		})
	}
	prep.Wait()
	close(open)
	if t.Failed() {
		t.FailNow()
	}

	// The slow request: its headers are in, its body half sent, when SIGTERM
	// comes. The server must wait for it.
	bodyR, bodyW := io.Pipe()
	slow := make(chan outcome, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/v1/invoices", bodyR)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		o := outcome{kind: "create", sent: time.Now()}
		res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		o.done, o.err = time.Now(), err
		if err == nil {
			var inv struct{ ID string }
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			_ = json.Unmarshal(b, &inv)
			o.status, o.ref = res.StatusCode, inv.ID
		}
		slow <- o
	}()
	half := len(newInvoice) / 2
	if _, err := io.WriteString(bodyW, newInvoice[:half]); err != nil {
		t.Fatal(err)
	}

	// The burst.
	var (
		mu       sync.Mutex
		outcomes []outcome
		n        atomic.Int64
		stop     = make(chan struct{})
		refs     atomic.Int64
	)
	var burst sync.WaitGroup
	for w := range workers {
		burst.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				o := outcome{sent: time.Now()}
				var status int
				var b []byte
				var err error
				id, pay := "", false
				if w%2 == 0 { // half the workers pay while open invoices last
					id, pay = <-open
				}
				if pay {
					o.kind, o.ref = "pay", fmt.Sprintf("psp_%d", refs.Add(1))
					status, b, err = post("/v1/invoices/"+id+"/payments", `{"amount":12000,"reference":"`+o.ref+`"}`)
				} else {
					o.kind = "create"
					status, b, err = post("/v1/invoices", newInvoice)
					var inv struct{ ID string }
					if json.Unmarshal(b, &inv) == nil {
						o.ref = inv.ID
					}
				}
				o.status, o.err, o.done = status, err, time.Now()
				n.Add(1)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				if err != nil {
					time.Sleep(5 * time.Millisecond) // refused: do not spin
				}
			}
		})
	}
	for n.Load() < 150 {
		time.Sleep(time.Millisecond)
	}
	sigterm := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// The listener closes at once: a new connection is refused while the
	// slow request still holds the server open.
	refused := false
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && !refused; {
		_, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(base + "/healthz")
		refused = errors.Is(err, syscall.ECONNREFUSED)
		time.Sleep(10 * time.Millisecond)
	}
	if !refused {
		t.Error("new connections were not refused within 3s of SIGTERM")
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := io.WriteString(bodyW, newInvoice[half:]); err != nil {
		t.Fatalf("finish the slow body: %v", err)
	}
	bodyW.Close()
	slowOutcome := <-slow
	if slowOutcome.err != nil || slowOutcome.status != 201 {
		t.Errorf("the request in flight at SIGTERM got %d %v, want 201", slowOutcome.status, slowOutcome.err)
	}

	var exitErr error
	select {
	case exitErr = <-p.exit:
	case <-time.After(30 * time.Second):
		t.Fatalf("the process did not exit within 30s of SIGTERM\n%s", p.logs)
	}
	exited := time.Now()
	close(stop)
	burst.Wait()
	if exitErr != nil {
		t.Fatalf("exit: %v, want code 0\n%s", exitErr, p.logs)
	}

	// Every answer is a 2xx or a connection error: never a 5xx, never a
	// request cut off with a timeout.
	outcomes = append(outcomes, slowOutcome)
	var created, paid []string
	var accepted, failed, afterSIGTERM int
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			failed++
			var ne interface{ Timeout() bool }
			if errors.As(o.err, &ne) && ne.Timeout() {
				t.Errorf("%s timed out: %v", o.kind, o.err)
			}
		case o.status >= 200 && o.status < 300:
			accepted++
			if o.done.After(sigterm) {
				afterSIGTERM++
			}
			if o.kind == "create" {
				created = append(created, o.ref)
			} else {
				paid = append(paid, o.ref)
			}
		default:
			t.Errorf("%s %s answered %d: only 2xx or a refused connection are acceptable", o.kind, o.ref, o.status)
		}
	}
	t.Logf("%d requests: %d accepted (%d answered after SIGTERM), %d connection errors; exit %s after SIGTERM",
		len(outcomes), accepted, afterSIGTERM, failed, exited.Sub(sigterm).Round(time.Millisecond))
	if failed == 0 {
		t.Error("no request of the burst was refused: SIGTERM came after the burst")
	}

	// Nothing accepted was lost, and all of it was published.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var missing, unpublished, events int
	err = conn.QueryRow(ctx, `SELECT
    (SELECT count(*) FROM unnest($1::uuid[]) c(id) WHERE NOT EXISTS (
        SELECT 1 FROM invoices i JOIN outbox o ON o.aggregate_id = i.id AND o.event_type = 'invoice.created' WHERE i.id = c.id))
  + (SELECT count(*) FROM unnest($2::text[]) p(ref) WHERE NOT EXISTS (
        SELECT 1 FROM payments pm JOIN invoices i ON i.id = pm.invoice_id AND i.status = 'paid'
        JOIN outbox o ON o.aggregate_id = i.id AND o.event_type = 'invoice.paid' WHERE pm.reference = p.ref)),
    (SELECT count(*) FROM outbox o, outbox_position p WHERE p.partition = 0 AND ((o.txid, o.sequence) > (p.txid, p.sequence) OR EXISTS (SELECT 1 FROM outbox_held h WHERE h.sequence = o.sequence))),
    (SELECT count(*) FROM outbox)`, created, paid).Scan(&missing, &unpublished, &events)
	if err != nil {
		t.Fatal(err)
	}
	if missing != 0 {
		t.Errorf("%d of %d accepted creates and %d accepted payments are missing, or lack their events", missing, len(created), len(paid))
	}
	if unpublished != 0 {
		t.Errorf("%d of %d events unpublished after a clean exit: the relay should have drained", unpublished, events)
	}

	// And the stream has them: every accepted payment's paid event.
	paidIDs := map[string]bool{}
	rows, err := conn.Query(ctx, `SELECT o.event_id::text FROM outbox o JOIN payments p ON p.invoice_id = o.aggregate_id
WHERE o.event_type = 'invoice.paid' AND p.reference = ANY($1)`, paid)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		paidIDs[id] = true
	}
	inStream := paidEvents(t, natsURL, paidIDs)
	if inStream != len(paidIDs) {
		t.Errorf("%d of %d paid events are in the stream", inStream, len(paidIDs))
	}
	t.Logf("%d invoices created, %d paid, %d events, all published; log tail:\n%s", len(created), len(paid), events, tail(p.logs.String(), 8))
	if os.Getenv("SHUTDOWN_LOGS") != "" {
		t.Log(p.logs.String())
	}
}

// paidEvents counts the messages on invoicing.invoice.paid whose id is in
// want.
func paidEvents(t *testing.T, natsURL string, want map[string]bool) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream := waitStream(ctx, t, js)
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"invoicing.invoice.paid"},
	})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for found < len(want) {
		msg, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil {
			break // caught up
		}
		if want[msg.Headers().Get("Nats-Msg-Id")] {
			found++
		}
	}
	return found
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// TestASecondSIGTERMEndsTheDrain: the first SIGTERM starts the drain, which
// waits for a request still sending its body; a second one ends the
// process at once (Go's default action), instead of after the request's
// deadline or SHUTDOWN_TIMEOUT.
func TestASecondSIGTERMEndsTheDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	natsURL := natstest.New(t).URL()
	dbURL := pgtest.NewURL(t)
	bin := buildBinary(t)
	var out strings.Builder
	if err := run(context.Background(), []string{"apikey", "create", "--tenant", "acme"}, env(map[string]string{"DATABASE_URL": dbURL}), &out); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, bin, map[string]string{"DATABASE_URL": dbURL, "NATS_URL": natsURL, "HTTP_ADDR": "127.0.0.1:0", "SHUTDOWN_TIMEOUT": "60s"}, "serve")
	var addr string
	select {
	case addr = <-p.addr:
	case err := <-p.exit:
		t.Fatalf("serve exited before listening: %v\n%s", err, p.logs)
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not listen within 15s\n%s", p.logs)
	}
	// A create whose body never ends: in flight, the drain waits for it.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/invoices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"cu", lastLine(out.String()))
	time.Sleep(500 * time.Millisecond) // until the server reads it: a connection with no request yet is closed by the drain

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(p.logs.String(), `"shutting down"`); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start its drain within 15s of SIGTERM\n%s", p.logs)
		}
	}
	select {
	case err := <-p.exit:
		t.Fatalf("serve exited after one SIGTERM (%v) with a request in flight: the test shows nothing\n%s", err, p.logs)
	case <-time.After(time.Second):
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exit:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Errorf("serve ended with %v, want killed by the second SIGTERM", err)
		}
	case <-time.After(10 * time.Second): // the drain would wait 30s (the request's deadline)
		t.Fatalf("serve still draining 10s after a second SIGTERM\n%s", p.logs)
	}
}
