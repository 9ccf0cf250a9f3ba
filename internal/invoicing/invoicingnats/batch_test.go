package invoicingnats_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/natstest"
)

// messages returns n messages with ids prefix-0 .. prefix-(n-1).
func messages(prefix string, n int) []relay.Message {
	out := make([]relay.Message, n)
	for i := range out {
		out[i] = relay.Message{Subject: "invoicing.invoice.paid", ID: fmt.Sprintf("%s-%d", prefix, i), Body: []byte(`{}`)}
	}
	return out
}

// publishAll publishes msgs and fails the test unless every one is stored
// (or a duplicate).
func publishAll(t *testing.T, pub *invoicingnats.Publisher, msgs []relay.Message) {
	t.Helper()
	for i, err := range pub.Publish(context.Background(), msgs) {
		if err != nil {
			t.Fatalf("message %d (%s): %v, want stored or a duplicate", i, msgs[i].ID, err)
		}
	}
}

// streamState returns the INVOICING stream's configuration and state.
func streamState(t *testing.T, js jetstream.JetStream) *jetstream.StreamInfo {
	t.Helper()
	s, err := js.Stream(context.Background(), invoicingnats.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestPublisherSendsAtomicBatchesAndAReSentBatchIsDeduplicated(t *testing.T) {
	ctx := context.Background()
	nc := connect(t, natstest.New(t, natstest.SyncAlways()).URL())
	eventually(t, "connected", nc.IsConnected)
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{AtomicBatches: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if info := streamState(t, js); !info.Config.AllowAtomicPublish {
		t.Fatalf("stream on nats-server %s: allow_atomic unset, want set", nc.ConnectedServerVersion())
	}

	// 2,500 messages: three batches (1,000 at most each), sent at once.
	first := messages("a", 2500)
	publishAll(t, pub, first)
	s, _ := js.Stream(ctx, invoicingnats.DefaultStream)
	got, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("Nats-Batch-Id") == "" || !strings.HasPrefix(got.Header.Get("Nats-Msg-Id"), "a-") {
		t.Fatalf("first message's headers %v, want a Nats-Batch-Id (stored in a batch) and a Nats-Msg-Id a-*", got.Header)
	}

	// The relay re-sends what it could not mark published (a crash between
	// the ack and the mark), alone or with new events.
	publishAll(t, pub, first[:500])
	publishAll(t, pub, append(messages("b", 300), first[2000:]...))
	if n := streamState(t, js).State.Msgs; n != 2800 {
		t.Fatalf("stream holds %d messages, want 2800 (a-0..a-2499 and b-0..b-299 once each)", n)
	}
}

// TestPublisherIsSafeForConcurrentPublishes: the relay may publish the next
// batch while the previous one's acks are awaited.
func TestPublisherIsSafeForConcurrentPublishes(t *testing.T) {
	nc := connect(t, natstest.New(t).URL())
	eventually(t, "connected", nc.IsConnected)
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{AtomicBatches: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 5 {
				// Overlapping ids across goroutines: duplicates are fine.
				publishAll(t, pub, messages(fmt.Sprintf("g%d-r%d", g%2, round), 300))
			}
		})
	}
	wg.Wait()
	js, _ := jetstream.New(nc)
	if n := streamState(t, js).State.Msgs; n != 2*5*300 {
		t.Fatalf("stream holds %d messages, want %d", n, 2*5*300)
	}
}

// TestPublisherPublishesOneByOneOnAServerWithoutBatches runs the machine's
// nats-server (2.9.10 when written), which knows no atomic batches.
func TestPublisherPublishesOneByOneOnAServerWithoutBatches(t *testing.T) {
	bin := natstest.OldServer(t, 2, 12) // before atomic batches
	nc := connect(t, natstest.StartProcess(t, bin))
	eventually(t, "connected", nc.IsConnected)
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{AtomicBatches: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Prepare(context.Background()); err != nil {
		t.Fatalf("Prepare on nats-server %s: %v", nc.ConnectedServerVersion(), err)
	}
	publishAll(t, pub, messages("a", 600))
	publishAll(t, pub, messages("a", 700))
	js, _ := jetstream.New(nc)
	if n := streamState(t, js).State.Msgs; n != 700 {
		t.Fatalf("stream holds %d messages, want 700", n)
	}
}

// TestPublisherTellsWhichMessageOfABatchIsTooLarge: a batch is all or
// nothing, the answers are per message.
func TestPublisherTellsWhichMessageOfABatchIsTooLarge(t *testing.T) {
	for name, opts := range map[string]struct {
		server []natstest.Option
		stream invoicingnats.StreamConfig
	}{
		"over max_payload":        {server: []natstest.Option{natstest.MaxPayload(relay.MaxEventBytes)}, stream: invoicingnats.StreamConfig{AtomicBatches: true}},
		"over the stream's limit": {stream: invoicingnats.StreamConfig{MaxMsgSize: 1024, AtomicBatches: true}},
	} {
		t.Run(name, func(t *testing.T) {
			nc := connect(t, natstest.New(t, opts.server...).URL())
			eventually(t, "connected", nc.IsConnected)
			pub, err := invoicingnats.NewPublisher(nc, opts.stream)
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Prepare(context.Background()); err != nil {
				t.Fatal(err)
			}
			msgs := messages("m", 20) // enough to go as one batch
			msgs[1].Body = []byte(`"` + strings.Repeat("x", relay.MaxEventBytes) + `"`)
			errs := pub.Publish(context.Background(), msgs)
			for i, err := range errs {
				if i == 1 && !errors.Is(err, relay.ErrTooLarge) || i != 1 && err != nil {
					t.Fatalf("answers %v, want relay.ErrTooLarge for message 1 only", errs)
				}
			}
			js, _ := jetstream.New(nc)
			if n := streamState(t, js).State.Msgs; n != 19 {
				t.Fatalf("stream holds %d messages, want 19", n)
			}
		})
	}
}

// Atomic batches cost a server that does not fsync every write more than
// async publishes: the stream takes them only when the config asks.
func TestStreamAllowsAtomicBatchesOnlyWhenAsked(t *testing.T) {
	for _, asked := range []bool{false, true} {
		nc := connect(t, natstest.New(t).URL())
		eventually(t, "connected", nc.IsConnected)
		pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{AtomicBatches: asked})
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Prepare(context.Background()); err != nil {
			t.Fatal(err)
		}
		publishAll(t, pub, messages("a", 40))
		js, _ := jetstream.New(nc)
		if info := streamState(t, js); info.Config.AllowAtomicPublish != asked || info.State.Msgs != 40 {
			t.Errorf("AtomicBatches %t: stream allow_atomic %t with %d messages, want %t with 40",
				asked, info.Config.AllowAtomicPublish, info.State.Msgs, asked)
		}
	}
}
