// Package notifynats is the notification context's JetStream adapter: a durable
// pull consumer that hands the events it reacts to to the inbox and acks
// them after the inbox committed, and a replay that re-reads the stream
// from a point in time through the same inbox.
package notifynats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/notification"
)

// Handler takes a batch of events in one transaction and returns how many
// were new (not re-deliveries). On error nothing of the batch was kept.
// (notifypg.Inbox implements it.)
type Handler interface {
	Handle(ctx context.Context, evs []notification.Event) (fresh int, err error)
}

// Config configures the consumer. Zero fields take the defaults noted.
type Config struct {
	// Stream to read. Default "INVOICING".
	Stream string
	// Durable is the consumer's name, also its inbox key. Default
	// "notification".
	Durable string
	// Subjects the consumer is filtered to. Default: the event types of
	// notification.DefaultReactions() and of the payment reminders
	// (notification.ConsumedTypes).
	Subjects []string
	// BackOff is the redelivery schedule of an unacknowledged message: the
	// n-th redelivery waits BackOff[n-1] (the last one repeats). Default
	// 10s, 30s, 1m, 5m, 15m. Its first entry is also the ack wait.
	BackOff []time.Duration
	// MaxDeliver is how often a message is delivered before JetStream
	// gives up on it (`invoicing notify replay` recovers it). Default 200:
	// with the default BackOff, about two days.
	MaxDeliver int
	// Batch is how many messages one inbox transaction takes at most: one
	// commit per batch, not per event. Default 500, the faster of the sizes
	// BenchmarkIngest compares (figures: docs/architecture.md, "The
	// consumer half").
	Batch int
	// Tracer records a span per event handled, in the trace the event
	// carries. Nil: no spans (tracing off).
	Tracer trace.TracerProvider
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "INVOICING"
	}
	if c.Durable == "" {
		c.Durable = DefaultDurable
	}
	if len(c.Subjects) == 0 {
		c.Subjects = notification.ConsumedTypes(notification.DefaultReactions())
	}
	if len(c.BackOff) == 0 {
		c.BackOff = []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute}
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 200
	}
	if c.Batch == 0 {
		c.Batch = 500
	}
}

// RedeliveryWindow returns how long after its first delivery JetStream may
// still redeliver a message to a consumer of c (defaults applied): the
// BackOff waits of its MaxDeliver-1 redeliveries. An inbox that forgets an
// event id sooner would take a late redelivery of that event for a new one.
func (c Config) RedeliveryWindow() time.Duration {
	c.setDefaults()
	var d time.Duration
	for n := range c.MaxDeliver - 1 {
		d += c.BackOff[min(n, len(c.BackOff)-1)]
	}
	return d
}

// DefaultDurable is the consumer's name when Config.Durable is empty.
const DefaultDurable = "notification"

// Consumer feeds the events of the stream to a Handler.
type Consumer struct {
	js  jetstream.JetStream
	nc  *nats.Conn
	cfg Config
	h   Handler
	log *slog.Logger

	received, fresh atomic.Int64
}

// New returns a consumer on the connection nc. It does not contact the
// server. It returns an error if nc cannot speak JetStream.
func New(nc *nats.Conn, h Handler, cfg Config, logger *slog.Logger) (*Consumer, error) {
	cfg.setDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("notification: jetstream: %w", err)
	}
	return &Consumer{js: js, nc: nc, cfg: cfg, h: h, log: logger}, nil
}

// Durable returns the consumer's name.
func (c *Consumer) Durable() string { return c.cfg.Durable }

// Counts returns how many events the consumer has handled (the inbox
// committed) and how many of them were new, since the process started.
func (c *Consumer) Counts() (received, fresh int64) { return c.received.Load(), c.fresh.Load() }

// Run creates or updates the durable consumer and handles its messages until
// ctx is cancelled; then it returns nil. While the stream or the server is
// missing it logs and retries, so notify may start before invoicing.
func (c *Consumer) Run(ctx context.Context) error {
	var cons jetstream.Consumer
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		var err error
		if cons, err = c.ensure(ctx); err == nil {
			break
		}
		c.log.WarnContext(ctx, "notification consumer not ready; retrying", "err", err, "in", wait.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	c.log.InfoContext(ctx, "notification consumer started", "stream", c.cfg.Stream, "durable", c.cfg.Durable, "subjects", c.cfg.Subjects)
	pause := time.Second
	for ctx.Err() == nil {
		msgs, err := c.fetch(ctx, cons)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.WarnContext(ctx, "fetch failed", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			// The consumer (or the stream) may have been deleted: creating
			// it again is harmless if it was not.
			if again, err := c.ensure(ctx); err == nil {
				cons = again
			}
			continue
		}
		if _, _, err := c.handle(ctx, msgs, true); err != nil {
			// The database is likely down: wait before the next batch
			// rather than fail it too. The failed batch comes back by
			// the consumer's BackOff.
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
			pause = min(2*pause, 30*time.Second)
			continue
		}
		pause = time.Second
	}
	return nil
}

// ensure creates the durable consumer, or updates it to the configuration.
func (c *Consumer) ensure(ctx context.Context) (jetstream.Consumer, error) {
	if !c.nc.IsConnected() {
		// Asked while disconnected, nats.go buffers the request and
		// answers "outbound buffer limit exceeded", which names neither
		// the server nor the cause.
		return nil, fmt.Errorf("no NATS server reachable at %s (connection %s)", serverList(c.nc), c.nc.Status())
	}
	one, many := c.filter()
	return c.js.CreateOrUpdateConsumer(ctx, c.cfg.Stream, jetstream.ConsumerConfig{
		Durable:        c.cfg.Durable,
		Description:    "notification context (internal/notification): " + c.cfg.Durable,
		FilterSubject:  one,
		FilterSubjects: many,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		BackOff:        c.cfg.BackOff,
		MaxDeliver:     c.cfg.MaxDeliver,
		MaxAckPending:  10 * c.cfg.Batch,
	})
}

// fetch returns the next messages: those available at once, up to Batch, or
// else the first to arrive within a few seconds (none if none does).
func (c *Consumer) fetch(ctx context.Context, cons jetstream.Consumer) ([]jetstream.Msg, error) {
	msgs, err := drain(cons.FetchNoWait(c.cfg.Batch))
	if err != nil || len(msgs) > 0 {
		return msgs, err
	}
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err := cons.Next(jetstream.FetchContext(fctx))
	if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// More may have arrived with it: take them in the same transaction.
	more, err := drain(cons.FetchNoWait(c.cfg.Batch - 1))
	return append([]jetstream.Msg{m}, more...), err
}

// drain collects a fetched batch.
func drain(b jetstream.MessageBatch, err error) ([]jetstream.Msg, error) {
	if err != nil {
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if err := b.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
		return msgs, err
	}
	return msgs, nil
}

// handle decodes msgs, gives the events to the handler in one transaction
// and, if ack, acks them after it committed. It returns how many events it
// gave (messages on the consumer's subjects that decode) and how many of
// them were new. A message that is not a CloudEvent is terminated: no
// redelivery can fix it. If the handler fails, it returns the error and the
// messages are redelivered later.
func (c *Consumer) handle(ctx context.Context, msgs []jetstream.Msg, ack bool) (handled, fresh int, err error) {
	evs := make([]notification.Event, 0, len(msgs))
	good := msgs[:0:0]
	for _, m := range msgs {
		if !c.wants(m.Subject()) { // a server before 2.10 filtered nothing
			if ack {
				_ = m.Ack()
			}
			continue
		}
		ev, err := notification.DecodeEvent(m.Data())
		if err != nil {
			c.log.ErrorContext(ctx, "undecodable message terminated", "subject", m.Subject(), "err", err)
			if ack {
				_ = m.TermWithReason("not a CloudEvent this consumer can decode")
			}
			continue
		}
		evs = append(evs, ev)
		good = append(good, m)
	}
	if len(evs) == 0 {
		return 0, 0, nil
	}
	end := c.processSpans(ctx, evs)
	fresh, err = c.h.Handle(ctx, evs)
	defer end(err) // after the acks
	if err != nil {
		// No nak: JetStream redelivers after the ack wait, by BackOff, so
		// MaxDeliver spans the whole schedule (about two days), not
		// MaxDeliver quick naks during a database outage.
		c.log.WarnContext(ctx, "inbox failed; the batch will be redelivered", "events", len(evs), "err", err)
		return 0, 0, err
	}
	c.fresh.Add(int64(fresh))
	c.received.Add(int64(len(evs)))
	if ack {
		// After the commit: a lost ack redelivers, and the inbox skips it.
		for _, m := range good {
			if err := m.Ack(); err != nil {
				c.log.DebugContext(ctx, "ack failed; the message will be redelivered and skipped", "err", err)
			}
		}
	}
	return len(evs), fresh, nil
}

// filter returns the subject filter to ask the server for: one subject as
// FilterSubject, which every server takes; several as FilterSubjects, which
// needs nats-server 2.10 or later. An older server (such as Debian's 2.9)
// refuses FilterSubjects, so it gets no filter at all and handle skips the
// other subjects itself: the consumer works on both, and on 2.10+ reads
// only what it reacts to.
func (c *Consumer) filter() (one string, many []string) {
	switch {
	case len(c.cfg.Subjects) == 1:
		return c.cfg.Subjects[0], nil
	case serverAtLeast(c.nc.ConnectedServerVersion(), 2, 10):
		return "", c.cfg.Subjects
	}
	return "", nil
}

// wants reports whether subject matches one of the consumer's subjects.
func (c *Consumer) wants(subject string) bool {
	for _, s := range c.cfg.Subjects {
		if subjectMatches(s, subject) {
			return true
		}
	}
	return false
}

// subjectMatches reports whether subject matches the NATS filter: "*"
// matches one token, a final ">" one or more.
func subjectMatches(filter, subject string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, tok := range f {
		switch {
		case tok == ">":
			return i < len(s)
		case i >= len(s) || (tok != "*" && tok != s[i]):
			return false
		}
	}
	return len(f) == len(s)
}

// serverAtLeast reports whether version ("2.9.10", "" when not connected)
// is at least major.minor.
func serverAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	return err1 == nil && err2 == nil && (ma > major || ma == major && mi >= minor)
}

// Replayed is what a replay did.
type Replayed struct {
	// Read is how many events on the consumer's subjects were read: a
	// server before 2.10 sends the others too, which are skipped.
	Read  int
	Fresh int // of them, new to the inbox (handled now)
}

// Replay re-reads the stream's messages stored since since, on the
// consumer's subjects, through the same handler: what was handled is
// skipped, what was missed is handled. It uses an ephemeral ordered
// consumer, so the durable one is untouched, and stops at the end of the
// stream as it was when the replay started. It returns what it did, and an
// error if the stream cannot be read or the handler fails.
func (c *Consumer) Replay(ctx context.Context, since time.Time) (Replayed, error) {
	var r Replayed
	stream, err := c.js.Stream(ctx, c.cfg.Stream)
	if err != nil {
		return r, fmt.Errorf("notification: replay: stream %s: %w", c.cfg.Stream, err)
	}
	last := stream.CachedInfo().State.LastSeq
	one, many := c.filter()
	if one != "" {
		many = []string{one}
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: many,
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &since,
	})
	if err != nil {
		return r, fmt.Errorf("notification: replay: %w", err)
	}
	for {
		b, err := cons.Fetch(c.cfg.Batch, jetstream.FetchMaxWait(time.Second))
		msgs, err := drain(b, err)
		if err != nil {
			return r, fmt.Errorf("notification: replay: %w", err)
		}
		if len(msgs) == 0 {
			return r, nil // nothing more on the filtered subjects
		}
		handled, fresh, err := c.handle(ctx, msgs, false)
		if err != nil {
			return r, err
		}
		r.Read += handled
		r.Fresh += fresh
		md, err := msgs[len(msgs)-1].Metadata()
		if err != nil || md.Sequence.Stream >= last || md.NumPending == 0 {
			return r, nil
		}
	}
}

// Ready returns nil if the connection is up and the durable consumer exists,
// an error saying which is not.
func (c *Consumer) Ready(ctx context.Context) error {
	if !c.nc.IsConnected() {
		return ErrNotConnected
	}
	if _, err := c.js.Consumer(ctx, c.cfg.Stream, c.cfg.Durable); err != nil {
		return fmt.Errorf("%w: %w", ErrNoConsumer, err)
	}
	return nil
}

// Errors of Ready.
var (
	ErrNotConnected = errors.New("notification: not connected to NATS")
	ErrNoConsumer   = errors.New("notification: durable consumer missing")
)

// serverList returns the URLs nc connects to, without their passwords.
func serverList(nc *nats.Conn) string {
	urls := nc.Opts.Servers
	if len(urls) == 0 {
		urls = []string{nc.Opts.Url}
	}
	shown := make([]string, len(urls))
	for i, raw := range urls {
		shown[i] = raw
		if u, err := url.Parse(raw); err == nil {
			shown[i] = u.Redacted()
		}
	}
	return strings.Join(shown, ",")
}
