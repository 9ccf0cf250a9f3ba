package invoicingnats

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// ackTimeout is how long a publish waits for JetStream's ack before it
// counts as an outage (not as the message's fault).
const ackTimeout = 10 * time.Second

// maxPending is the async publish window; it admits the relay's largest
// batch (relay.Config.BatchSize is at most 10000).
const maxPending = 10000

// Publisher publishes the relay's messages to JetStream, in atomic batches
// where the server and stream take them, else asynchronously one by one. It
// implements relay.Publisher.
type Publisher struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream StreamConfig
	atomic atomic.Bool // the stream takes atomic batches (set by Prepare)
	// prepared is set once Prepare ensured the stream: before, a missing
	// stream is one Prepare is about to create.
	prepared atomic.Bool
}

var _ relay.Publisher = (*Publisher)(nil)

// NewPublisher returns a publisher on nc that ensures the stream described by
// stream (zero fields defaulted) in Prepare. It returns an error if stream
// is invalid or the JetStream context cannot be created.
func NewPublisher(nc *nats.Conn, stream StreamConfig) (*Publisher, error) {
	stream.setDefaults()
	if err := stream.Validate(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(maxPending),
		jetstream.WithPublishAsyncTimeout(ackTimeout))
	if err != nil {
		return nil, fmt.Errorf("nats: jetstream: %w", err)
	}
	return &Publisher{nc: nc, js: js, stream: stream}, nil
}

// Prepare checks the server's max_payload (CheckMaxPayload), then creates
// or updates the stream, and from then on publishes in atomic batches if
// the stream allows them (EnsureStream allows them on nats-server 2.12 and
// later). It returns an error wrapping relay.ErrUnavailable
// while disconnected, one wrapping ErrMaxPayloadTooSmall, or EnsureStream's
// error.
func (p *Publisher) Prepare(ctx context.Context) error {
	if !p.nc.IsConnected() {
		return fmt.Errorf("nats: ensure stream %s: %w (connection %s)", p.stream.Name, relay.ErrUnavailable, p.nc.Status())
	}
	if err := p.CheckMaxPayload(); err != nil {
		return err
	}
	cfg, err := ensureStream(ctx, p.js, p.stream)
	if err != nil {
		return err
	}
	p.atomic.Store(cfg.AllowAtomicPublish)
	p.prepared.Store(true)
	return nil
}

// ErrMaxPayloadTooSmall is returned when the server's max_payload is below
// relay.MaxEventBytes: some event the API accepts could not be published.
var ErrMaxPayloadTooSmall = errors.New("nats: the server's max_payload is below the largest event the service publishes")

// CheckMaxPayload compares the max_payload the server announced in its
// INFO with relay.MaxEventBytes, so that the relay never has to guess the
// limit. It returns an error wrapping ErrMaxPayloadTooSmall, naming both
// figures and the server setting to raise, if the limit is too small; nil
// if it is enough, or while no server has been connected (Prepare checks
// again once one is).
func (p *Publisher) CheckMaxPayload() error {
	if !p.nc.IsConnected() {
		return nil
	}
	if limit := p.nc.MaxPayload(); limit < relay.MaxEventBytes {
		return fmt.Errorf("%w: the server at %s allows %d bytes, the service needs %d: raise max_payload in the nats-server configuration",
			ErrMaxPayloadTooSmall, p.nc.ConnectedUrlRedacted(), limit, relay.MaxEventBytes)
	}
	return nil
}

// ErrNoStream is returned by Ready when the stream does not exist.
var ErrNoStream = errors.New("nats: stream not found")

// ErrStreamPending is returned by Ready, with ErrNoStream, when the stream
// does not exist yet and this publisher has not prepared it: the relay
// creates it when it first leads.
var ErrStreamPending = errors.New("nats: stream not created yet")

// Ready reports whether events can be published now: nil if the connection
// is up, the server's max_payload is large enough and the stream exists (one
// request to the server). It returns an error wrapping
// relay.ErrUnavailable while disconnected, ErrMaxPayloadTooSmall, ErrNoStream
// if the stream is missing (with ErrStreamPending before Prepare created
// it), or the server's error.
func (p *Publisher) Ready(ctx context.Context) error {
	if !p.nc.IsConnected() {
		return fmt.Errorf("nats: %w (connection %s)", relay.ErrUnavailable, p.nc.Status())
	}
	if err := p.CheckMaxPayload(); err != nil {
		return err
	}
	if _, err := p.js.Stream(ctx, p.stream.Name); err != nil {
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound) && !p.prepared.Load():
			return fmt.Errorf("%w (%w): %s", ErrNoStream, ErrStreamPending, p.stream.Name)
		case errors.Is(err, jetstream.ErrStreamNotFound):
			return fmt.Errorf("%w: %s", ErrNoStream, p.stream.Name)
		}
		return fmt.Errorf("nats: stream %s: %w", p.stream.Name, err)
	}
	return nil
}

// Reconnected returns a channel that receives a value each time the
// connection is up again after it was lost, or up at last when no server
// answered at start, until ctx is done. The value arrives once the client
// has reconnected, so a publish made on it goes to the server that is back.
func (p *Publisher) Reconnected(ctx context.Context) <-chan struct{} {
	status := p.nc.StatusChanged(nats.CONNECTED)
	out := make(chan struct{}, 1)
	go func() {
		defer p.nc.RemoveStatusListener(status)
		for {
			select {
			case <-status:
				select {
				case out <- struct{}{}:
				default: // one waiting value already says it
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Stream returns the name of the stream the publisher publishes to.
func (p *Publisher) Stream() string { return p.stream.Name }

// Publish sends msgs and waits for JetStream's answer to each
// (Nats-Msg-Id = its ID, Content-Type = application/cloudevents+json): as
// atomic batches where the stream allows them (publishBatches), else with
// PublishAsync. It returns one error per message: nil if stored or a
// duplicate the stream already holds; an error wrapping relay.ErrUnavailable
// if the connection is down, the ack timed out, ctx ended or the server's
// max_payload is below relay.MaxEventBytes (CheckMaxPayload); one wrapping
// relay.ErrTooLarge if the message exceeds max_payload or the stream's
// maximum message size; otherwise the server's rejection (e.g. no stream
// for the subject). It is safe to call from several goroutines at once.
func (p *Publisher) Publish(ctx context.Context, msgs []relay.Message) []error {
	errs := make([]error, len(msgs))
	// A server reached after Prepare (a reconnect, another cluster node)
	// may take less than the largest event. That is the broker's fault,
	// not the messages': an outage, so that nothing is parked for it.
	if err := p.CheckMaxPayload(); err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("%w: %w", relay.ErrUnavailable, err)
		}
		return errs
	}
	if p.atomic.Load() {
		p.publishBatches(ctx, msgs, errs)
	} else {
		p.publishAsync(ctx, msgs, errs)
	}
	return errs
}

// publishAsync sends every message with PublishAsync, then waits for each
// ack, and sets errs[i] to message i's outcome as Publish describes it.
func (p *Publisher) publishAsync(ctx context.Context, msgs []relay.Message, errs []error) {
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		if err := ctx.Err(); err != nil {
			errs[i] = fmt.Errorf("%w: %w", relay.ErrUnavailable, err)
			continue
		}
		msg := &nats.Msg{Subject: m.Subject, Data: m.Body, Header: header(m)}
		f, err := p.js.PublishMsgAsync(msg)
		if err != nil {
			errs[i] = p.classify(err)
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs[i] = p.classify(err)
		case <-ctx.Done():
			errs[i] = fmt.Errorf("%w: %w", relay.ErrUnavailable, ctx.Err())
		}
	}
}

// Message headers besides Nats-Msg-Id and Content-Type. traceparent and
// tracestate are the W3C names, which tracing libraries read from NATS
// headers as from HTTP ones.
const (
	HeaderCorrelationID = "Correlation-Id"
	HeaderTraceParent   = "traceparent"
	HeaderTraceState    = "tracestate"
)

// header returns m's message headers: Nats-Msg-Id, Content-Type, and the
// trace headers m has values for. Nats-Msg-Id is set here, not with
// jetstream.WithMsgID, so that both ways of publishing take it from one
// place, and PublishMsgAsync, given no options, allocates none for each
// message. NATS headers are case-sensitive: the names are kept as written.
func header(m relay.Message) nats.Header {
	h := nats.Header{nats.MsgIdHdr: {m.ID}, "Content-Type": {cloudevent.ContentType}}
	if m.CorrelationID != "" {
		h[HeaderCorrelationID] = []string{m.CorrelationID}
	}
	if m.TraceParent != "" {
		h[HeaderTraceParent] = []string{m.TraceParent}
	}
	if m.TraceState != "" {
		h[HeaderTraceState] = []string{m.TraceState}
	}
	return h
}

// transient are the errors that say nothing about the message itself.
var transient = []error{
	nats.ErrConnectionClosed, nats.ErrConnectionDraining, nats.ErrConnectionReconnecting,
	nats.ErrDisconnected, nats.ErrReconnectBufExceeded, nats.ErrNoServers, nats.ErrTimeout,
	jetstream.ErrAsyncPublishTimeout, jetstream.ErrTooManyStalledMsgs, jetstream.ErrJetStreamPublisherClosed,
	context.DeadlineExceeded, context.Canceled,
}

// classify wraps err in relay.ErrUnavailable unless it is the server's
// verdict on the message, and a verdict on its size in relay.ErrTooLarge.
// "No response from stream" counts as a verdict when connected: no stream
// captures the subject.
func (p *Publisher) classify(err error) error {
	var apiErr *jetstream.APIError
	if errors.Is(err, nats.ErrMaxPayload) ||
		errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum {
		return fmt.Errorf("%w: %w", relay.ErrTooLarge, err)
	}
	for _, t := range transient {
		if errors.Is(err, t) {
			return fmt.Errorf("%w: %w", relay.ErrUnavailable, err)
		}
	}
	if !p.nc.IsConnected() {
		return fmt.Errorf("%w: %w", relay.ErrUnavailable, err)
	}
	return err
}
