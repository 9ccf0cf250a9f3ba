package invoicingnats_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/natstest"
)

func connect(t *testing.T, urls string) *nats.Conn {
	t.Helper()
	// The connection's callbacks log from nats.go's own goroutine, also
	// after Close returns (the "closed" callback), when t.Output() may no
	// longer be written: the race detector flags it. Those logs go nowhere.
	nc, err := invoicingnats.Connect(context.Background(), urls, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Connect(%q): %v", urls, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConnectTriesEveryURLAndReconnectsAfterARestart(t *testing.T) {
	srv := natstest.New(t)
	nc := connect(t, "nats://127.0.0.1:1,"+srv.URL())
	eventually(t, "connected through the second URL", nc.IsConnected)

	srv.Stop()
	eventually(t, "disconnected", func() bool { return !nc.IsConnected() })
	srv.Restart()
	eventually(t, "reconnected", nc.IsConnected)
}

func TestConnectWithoutAServerReturnsAConnectionThatKeepsTrying(t *testing.T) {
	nc := connect(t, "nats://127.0.0.1:1")
	if nc.IsConnected() || nc.IsClosed() {
		t.Fatalf("status = %v, want reconnecting", nc.Status())
	}
}

func TestEnsureStreamCreatesThenUpdates(t *testing.T) {
	ctx := context.Background()
	nc := connect(t, natstest.New(t).URL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := invoicingnats.EnsureStream(ctx, js, invoicingnats.StreamConfig{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	s, err := js.Stream(ctx, "INVOICING")
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if len(cfg.Subjects) != 1 || cfg.Subjects[0] != "invoicing.>" || cfg.Storage != jetstream.FileStorage ||
		cfg.Duplicates != 2*time.Minute || cfg.Replicas != 1 {
		t.Fatalf("created %+v, want invoicing.>, file storage, 2m duplicate window, 1 replica", cfg)
	}

	if err := invoicingnats.EnsureStream(ctx, js, invoicingnats.StreamConfig{Duplicates: 10 * time.Minute}); err != nil {
		t.Fatalf("update: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Duplicates != 10*time.Minute {
		t.Fatalf("duplicate window after update = %s, want 10m", info.Config.Duplicates)
	}

	if err := invoicingnats.EnsureStream(ctx, js, invoicingnats.StreamConfig{Replicas: 9}); err == nil {
		t.Fatal("EnsureStream with 9 replicas succeeded, want a validation error")
	}
}

func TestPublisherStoresEachIDOnceAndTellsRejectionsFromOutages(t *testing.T) {
	ctx := context.Background()
	srv := natstest.New(t)
	nc := connect(t, srv.URL())
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{MaxMsgSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Prepare(ctx); err != nil {
		t.Fatalf("Prepare: %v", err)
	}

	msg := func(id string, size int) relay.Message {
		return relay.Message{Subject: "invoicing.invoice.paid", ID: id, Body: []byte(`"` + strings.Repeat("x", size) + `"`)}
	}
	errs := pub.Publish(ctx, []relay.Message{msg("a", 10), msg("b", 10), msg("a", 10), msg("big", 2000)})
	for i, err := range errs[:3] {
		if err != nil {
			t.Errorf("message %d: %v, want stored (or a duplicate)", i, err)
		}
	}
	var apiErr *jetstream.APIError
	if !errors.As(errs[3], &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamMessageExceedsMaximum ||
		errors.Is(errs[3], relay.ErrUnavailable) || !errors.Is(errs[3], relay.ErrTooLarge) {
		t.Errorf("oversized message: %v, want the stream's 'message size exceeds maximum' rejection, as relay.ErrTooLarge", errs[3])
	}

	js, _ := jetstream.New(nc)
	s, err := js.Stream(ctx, "INVOICING")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	if info.State.Msgs != 2 {
		t.Fatalf("stream holds %d messages, want 2 (a, b once each)", info.State.Msgs)
	}
	got, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("Nats-Msg-Id") != "a" || got.Header.Get("Content-Type") != cloudevent.ContentType {
		t.Fatalf("headers %v, want Nats-Msg-Id a and Content-Type %s", got.Header, cloudevent.ContentType)
	}

	srv.Stop()
	eventually(t, "disconnected", func() bool { return !nc.IsConnected() })
	for _, err := range pub.Publish(ctx, []relay.Message{msg("c", 10)}) {
		if !errors.Is(err, relay.ErrUnavailable) {
			t.Fatalf("publish while the server is down: %v, want relay.ErrUnavailable", err)
		}
	}
	if err := pub.Prepare(ctx); !errors.Is(err, relay.ErrUnavailable) {
		t.Fatalf("Prepare while the server is down: %v, want relay.ErrUnavailable", err)
	}
}

func TestPublisherRefusesAServerWhoseMaxPayloadIsBelowTheLargestEvent(t *testing.T) {
	ctx := context.Background()
	nc := connect(t, natstest.New(t, natstest.MaxPayload(relay.MaxEventBytes-1)).URL())
	eventually(t, "connected", nc.IsConnected)
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{"CheckMaxPayload": pub.CheckMaxPayload(), "Prepare": pub.Prepare(ctx), "Ready": pub.Ready(ctx)} {
		if !errors.Is(err, invoicingnats.ErrMaxPayloadTooSmall) || errors.Is(err, relay.ErrUnavailable) ||
			!strings.Contains(err.Error(), "max_payload") || !strings.Contains(err.Error(), fmt.Sprint(relay.MaxEventBytes-1)) {
			t.Errorf("%s: %v, want ErrMaxPayloadTooSmall naming max_payload and the server's %d bytes", name, err, relay.MaxEventBytes-1)
		}
	}
	js, _ := jetstream.New(nc)
	if _, err := js.Stream(ctx, invoicingnats.DefaultStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("Prepare created the stream on a server it refused: %v", err)
	}
	// Met after Prepare (a reconnect to another node), the server is an
	// outage: nothing may be parked for its limit.
	err = pub.Publish(ctx, []relay.Message{{Subject: "invoicing.invoice.paid", ID: "a", Body: []byte(`{}`)}})[0]
	if !errors.Is(err, relay.ErrUnavailable) || !errors.Is(err, invoicingnats.ErrMaxPayloadTooSmall) {
		t.Errorf("Publish: %v, want relay.ErrUnavailable wrapping ErrMaxPayloadTooSmall", err)
	}
}

func TestPublisherTellsAMessageOverMaxPayloadIsTooLarge(t *testing.T) {
	ctx := context.Background()
	nc := connect(t, natstest.New(t, natstest.MaxPayload(relay.MaxEventBytes)).URL())
	eventually(t, "connected", nc.IsConnected)
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Prepare(ctx); err != nil {
		t.Fatalf("Prepare on a server allowing relay.MaxEventBytes: %v", err)
	}
	body := []byte(`"` + strings.Repeat("x", relay.MaxEventBytes) + `"`)
	err = pub.Publish(ctx, []relay.Message{{Subject: "invoicing.invoice.created", ID: "big", Body: body}})[0]
	if !errors.Is(err, relay.ErrTooLarge) || !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("publish over max_payload: %v, want relay.ErrTooLarge wrapping invoicingnats.ErrMaxPayload", err)
	}
}

func TestPublisherReportsEachReconnectUntilCancelled(t *testing.T) {
	srv := natstest.New(t)
	nc := connect(t, srv.URL())
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reconnected := pub.Reconnected(ctx)
	select {
	case <-reconnected:
		t.Fatal("a reconnect reported while the connection never broke")
	case <-time.After(100 * time.Millisecond):
	}
	for i := range 2 {
		srv.Restart()
		select {
		case <-reconnected:
			if !nc.IsConnected() {
				t.Fatalf("restart %d: reported before the connection was up (%v)", i+1, nc.Status())
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("restart %d: no reconnect reported", i+1)
		}
	}

	cancel()
	time.Sleep(100 * time.Millisecond) // the listener goes away
	srv.Restart()
	eventually(t, "reconnected", nc.IsConnected)
	select {
	case <-reconnected:
		t.Fatal("a reconnect reported after ctx was cancelled")
	case <-time.After(200 * time.Millisecond):
	}
}

// A stream the server refuses for good (three replicas asked of a server
// that is not in a cluster: NATS_STREAM_REPLICAS=3 against one node) is a
// misconfiguration: Prepare says so with relay.ErrMisconfigured, which the
// relay returns instead of retrying for ever, while a broker that merely
// cannot be reached is not (relay.ErrUnavailable).
func TestPrepareCallsAStreamTheServerRefusesMisconfigured(t *testing.T) {
	nc := connect(t, natstest.New(t).URL())
	eventually(t, "connected", nc.IsConnected)
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	err = pub.Prepare(context.Background())
	if !errors.Is(err, relay.ErrMisconfigured) || !strings.Contains(err.Error(), "replicas") {
		t.Fatalf("Prepare with 3 replicas on a single server: %v, want relay.ErrMisconfigured naming the replicas", err)
	}
	nc.Close()
	if err := pub.Prepare(context.Background()); errors.Is(err, relay.ErrMisconfigured) || !errors.Is(err, relay.ErrUnavailable) {
		t.Fatalf("Prepare on a closed connection: %v, want relay.ErrUnavailable only", err)
	}
}
