package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/kernel"
	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// harness is one test's world: a fresh database with a tenant, and its own
// embedded NATS server.
type harness struct {
	t      testing.TB
	pool   *pgxpool.Pool
	nats   *natstest.Server
	js     jetstream.JetStream
	tenant kernel.TenantID
	log    *slog.Logger
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, pool: pgtest.New(t), nats: natstest.New(t), tenant: kernel.TenantID(uuid.New())}
	h.log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: testLogLevel}))
	_, err := h.pool.Exec(context.Background(), "INSERT INTO tenants (id, name) VALUES ($1, $2)",
		uuid.UUID(h.tenant), "tenant-"+uuid.NewString())
	if err != nil {
		t.Fatalf("insert tenant: %v", err)
	}
	if h.js, err = jetstream.New(h.connect()); err != nil {
		t.Fatal(err)
	}
	return h
}

// connect returns a new connection to the harness's NATS server.
func (h *harness) connect() *nats.Conn {
	h.t.Helper()
	nc, err := invoicingnats.Connect(context.Background(), h.nats.URL(), h.log)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(nc.Close)
	return nc
}

// fastConfig is a relay config that retries quickly.
func fastConfig() relay.Config {
	return relay.Config{PollInterval: 50 * time.Millisecond, BackoffMin: 10 * time.Millisecond,
		BackoffMax: 200 * time.Millisecond, LeaderRetry: 100 * time.Millisecond}
}

// running is a relay started by start, as a process would run it.
type running struct {
	*relay.Relay
	cancel context.CancelFunc
	done   chan error
}

// start runs a relay over store (the real outbox if nil) with its own NATS
// connection, until ctx is done, stop, or the end of the test.
func (h *harness) start(ctx context.Context, cfg relay.Config, stream invoicingnats.StreamConfig, store relay.Store) *running {
	h.t.Helper()
	if store == nil {
		store = invoicingpg.NewOutbox(h.pool)
	}
	pub, err := invoicingnats.NewPublisher(h.connect(), stream)
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := relay.New(store, invoicingpg.NewRelayLeadership(h.pool), pub, cfg, h.log)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	run := &running{Relay: r, cancel: cancel, done: make(chan error, 1)}
	go func() { run.done <- r.Run(ctx) }()
	h.t.Cleanup(func() { run.stop(h.t) })
	return run
}

// stop cancels the relay and waits for Run to return; stopping twice is fine.
func (r *running) stop(t testing.TB) {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("relay did not stop within 20s")
	}
}

// newInvoice commits a new draft with lines through repo and returns it.
func (h *harness) newInvoice(repo *invoicingpg.Invoices, lines ...invoice.LineInput) *invoice.Invoice {
	h.t.Helper()
	if len(lines) == 0 {
		lines = []invoice.LineInput{{Description: "Consulting", Quantity: 2, UnitAmount: 50_00, TaxRateBPS: 2000}}
	}
	inv, err := invoice.New(invoice.NewID(), h.tenant, "EUR", invoice.Customer{Name: "Acme", Email: "billing@acme.test"},
		time.Time{}, lines, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := repo.Add(context.Background(), inv, app.ChangeOptions{}, app.Result{}); err != nil {
		h.t.Fatalf("add invoice: %v", err)
	}
	return inv
}

// update commits fn's change to invoice id through repo.
func (h *harness) update(repo *invoicingpg.Invoices, id invoice.ID, fn func(*invoice.Invoice) error) *invoice.Invoice {
	h.t.Helper()
	changed, err := repo.Update(context.Background(), h.tenant, id, app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
		return app.Result{}, fn(inv)
	})
	if err != nil {
		h.t.Fatalf("update invoice %s: %v", id, err)
	}
	return changed.Invoice
}

// addLine returns an update that adds a line.
func addLine(n int) func(*invoice.Invoice) error {
	return func(inv *invoice.Invoice) error {
		_, err := inv.AddLine(invoice.LineInput{Description: fmt.Sprintf("Line %d", n), Quantity: 1, UnitAmount: 10_00}, time.Now())
		return err
	}
}

// streamed is a message read back from the stream.
type streamed struct {
	cloudevent.Event
	Raw         []byte // the message's data, as published
	Header      nats.Header
	NATSSubject string
	Size        int // bytes of the message body
}

// stream returns every message in the INVOICING stream, in stream order.
// It reads over a fresh connection: a long-lived one may still be
// reconnecting after a server restart, and would fail the read, not the relay.
func (h *harness) stream() []streamed {
	h.t.Helper()
	msgs, err := h.readStream()
	if err != nil {
		h.t.Fatal(err)
	}
	return msgs
}

// streamIfAny is stream, except that it returns nil while the server is
// unreachable or the stream does not exist yet.
func (h *harness) streamIfAny() []streamed {
	h.t.Helper()
	msgs, err := h.readStream()
	if errors.Is(err, nats.ErrNoServers) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return msgs
}

func (h *harness) readStream() ([]streamed, error) {
	ctx := context.Background()
	nc, err := nats.Connect(h.nats.URL())
	if err != nil {
		return nil, fmt.Errorf("connect to read the stream: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	s, err := js.Stream(ctx, invoicingnats.DefaultStream)
	if err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	var out []streamed
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get message %d: %w", seq, err)
		}
		var ce cloudevent.Event
		if err := json.Unmarshal(m.Data, &ce); err != nil {
			return nil, fmt.Errorf("message %d is not a CloudEvent: %w", seq, err)
		}
		out = append(out, streamed{Event: ce, Raw: m.Data, Header: m.Header, NATSSubject: m.Subject, Size: len(m.Data)})
	}
	return out, nil
}

// waitReadable waits until the relay may read every outbox row: until no
// transaction on the server older than the newest row still runs.
func (h *harness) waitReadable() {
	h.t.Helper()
	eventually(h.t, 15*time.Second, "every outbox row is readable by the relay", func() bool {
		var ok bool
		err := h.pool.QueryRow(context.Background(), `SELECT coalesce(
    (SELECT max(txid) FROM outbox) < pg_snapshot_xmin(pg_current_snapshot()), true)`).Scan(&ok)
		if err != nil {
			h.t.Fatal(err)
		}
		return ok
	})
}

// unpublished returns how many outbox rows are not yet published.
func (h *harness) unpublished() int {
	h.t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM outbox_held) + (SELECT count(*) FROM outbox o WHERE
    (o.txid, o.sequence) > ((SELECT txid FROM outbox_position WHERE partition = 0), (SELECT sequence FROM outbox_position WHERE partition = 0))
    AND NOT EXISTS (SELECT 1 FROM outbox_held h WHERE h.sequence = o.sequence))`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// outboxCount returns how many outbox rows there are.
func (h *harness) outboxCount() int {
	h.t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), "SELECT count(*) FROM outbox").Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// eventually polls cond until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkExactlyOnceInOrder fails the test unless msgs hold want events, each
// id once, and every invoice's events with invoiceversion 1, 2, 3... in
// stream order.
func checkExactlyOnceInOrder(t testing.TB, msgs []streamed, want int) {
	t.Helper()
	seen := make(map[string]bool, len(msgs))
	last := make(map[string]int64)
	var problems []string
	for _, m := range msgs {
		if seen[m.ID] {
			problems = append(problems, "duplicate "+m.ID)
		}
		seen[m.ID] = true
		if m.InvoiceVersion != last[m.Subject]+1 {
			problems = append(problems, fmt.Sprintf("invoice %s: version %d after %d", m.Subject, m.InvoiceVersion, last[m.Subject]))
		}
		last[m.Subject] = m.InvoiceVersion
	}
	if len(msgs) != want {
		problems = append(problems, fmt.Sprintf("%d messages, want %d", len(msgs), want))
	}
	if len(problems) > 0 {
		t.Fatalf("stream is not exactly once in per-invoice order (%d problems): %s",
			len(problems), strings.Join(problems[:min(len(problems), 10)], "; "))
	}
}

// crashingStore is the real store, except that its first MarkPublished
// "crashes" the relay: it cancels the relay's context and marks nothing, as
// if the process died between JetStream's acks and the UPDATE.
type crashingStore struct {
	relay.Store
	crash   context.CancelFunc
	crashed atomic.Bool
}

func (s *crashingStore) MarkPublished(ctx context.Context, seqs []int64) error {
	if s.crashed.CompareAndSwap(false, true) {
		s.crash()
		return errors.New("crashed before marking")
	}
	return s.Store.MarkPublished(ctx, seqs)
}

// testLogLevel is the relay's log level in tests; Info shows leadership.
var testLogLevel = slog.LevelInfo
