package relay

import (
	"context"
	"errors"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
)

// Record is one outbox row as the relay reads it: a committed domain event
// not yet published, and its failed publish attempts so far.
type Record struct {
	outbox.EventRecord
	Attempts int
}

// FailedEvent is a parked record: the broker rejected it MaxAttempts times,
// or once as too large. It and the later events of its invoice wait until an
// operator retries it.
type FailedEvent struct {
	Record
	LastError string    // the broker's last answer
	FailedAt  time.Time // when it was parked
}

// Failure reports that the broker rejected a record.
type Failure struct {
	Sequence   int64
	Err        string        // the broker's answer, kept as last_error
	RetryAfter time.Duration // when to try again, if not parked
	Park       bool          // stop retrying until an operator says so

	// Behind says the record was not sent at all: an earlier record of its
	// invoice was not stored. It is no attempt, only a place in its
	// invoice's queue: the store keeps it back, with no state of its own,
	// until the records before it are published.
	Behind bool
}

// Lag is what a read of the Store leaves waiting for an older transaction
// still running. Unread records hold up delivery: the relay looks again
// soon rather than at its next poll, since that transaction's end need
// notify nobody. Unrecorded ones are delivered already: only the record of
// their publication waits, which the relay's next read catches up on,
// woken as usual. Neither ends a drain.
type Lag struct {
	Unread     bool // committed records the store cannot return yet
	Unrecorded bool // published records it cannot record as published yet
}

// Store is the outbox as the relay needs it. The relay only reads and writes
// through it while it holds a Lease from its Leadership, so none of the
// methods lock rows.
type Store interface {
	// Pending returns up to limit unpublished records, each invoice's in
	// version order, leaving out the sequences in skip (in flight, or
	// being marked published), parked records, ones waiting for their
	// retry time, and any record of an invoice that has such an earlier
	// record (order is per invoice). It also reports what waits for an
	// older transaction still running (see Lag). It returns an error if
	// the query fails.
	Pending(ctx context.Context, limit int, skip []int64) (recs []Record, lag Lag, err error)

	// MarkPublished records that the broker stored the records with these
	// sequences, in one statement. It returns an error if the update fails;
	// the records are then sent again, which the broker deduplicates.
	MarkPublished(ctx context.Context, sequences []int64) error

	// RecordFailures counts one failed attempt for each record, with its
	// error, its retry time, and whether it is now parked; a record Behind
	// only waits for its invoice's earlier ones. The relay calls it before
	// MarkPublished for the same batch. It returns an error if the update
	// fails.
	RecordFailures(ctx context.Context, failures []Failure) error

	// Prune deletes at most limit published records that occurred before
	// cutoff and returns how many it deleted, or an error if the delete
	// fails.
	Prune(ctx context.Context, cutoff time.Time, limit int) (int64, error)
}

// Leadership elects the one active relay among the relays of one outbox,
// in this process and others.
type Leadership interface {
	// TryLead tries once to become the only active relay. It returns
	// ErrNotLeader if another relay leads, or an error if the election
	// cannot be held (e.g. the database cannot be reached).
	TryLead(ctx context.Context) (Lease, error)
}

// Lease is the relay's leadership. It is lost when the connection holding
// it breaks; a lost lease is never regained, the relay asks for a new one.
type Lease interface {
	// Lost returns a channel closed once leadership is lost.
	Lost() <-chan struct{}
	// Release gives up leadership; it returns once it has.
	Release()
}

// Commits carries commit notices from every process to the leader, so that
// events committed anywhere move at once instead of at the next poll. Only
// the leader listens: notices are for whoever relays.
type Commits interface {
	// Listen calls wake for every commit notice until ctx is done, and
	// once whenever it (re)starts listening, for notices it may have
	// missed. It keeps listening through connection failures.
	Listen(ctx context.Context, wake func())
}

// Message is an event as sent to the broker.
type Message struct {
	Subject string // "invoicing." + the event type
	ID      string // the event id, the broker's deduplication key
	Body    []byte // the CloudEvent, JSON

	// The trace of the request that caused the event, for message headers
	// (omitted when ""); the CloudEvent in Body carries it too.
	CorrelationID, TraceParent, TraceState string
}

// Publisher sends messages to the broker.
type Publisher interface {
	// Prepare makes the destination ready (for NATS: creates or updates the
	// stream). The relay calls it whenever it becomes leader and retries it
	// with backoff while it returns an error, unless the error wraps
	// ErrMisconfigured: Run then gives up the lead and returns it.
	Prepare(ctx context.Context) error

	// Publish sends all msgs without waiting between them, then waits for
	// the broker's answer to each. The relay calls it from one goroutine
	// at a time (a batch is sent only once the previous one's answers are
	// in), but not always the same goroutine. It returns one error per message, nil if
	// the broker stored it (or already had it). An error wrapping
	// ErrUnavailable means the broker could not be asked; one wrapping
	// ErrTooLarge, that the message exceeds the broker's size limit; any
	// other error is the broker's rejection of that message.
	Publish(ctx context.Context, msgs []Message) []error

	// Reconnected returns a channel that receives a value each time the
	// broker becomes reachable after it was not (for NATS: the connection
	// is established again), until ctx is done. Values may merge: one
	// waiting value means "at least once since you last looked". The relay
	// then retries at once instead of waiting out its backoff.
	Reconnected(ctx context.Context) <-chan struct{}
}

var (
	// ErrNotLeader is returned by Leadership.TryLead when another relay
	// leads.
	ErrNotLeader = errors.New("relay: another relay is the leader")

	// ErrUnavailable marks a publish error that is not the message's fault
	// (broker down, disconnected, ack timeout). The relay backs off and
	// retries without counting an attempt against the record.
	ErrUnavailable = errors.New("relay: broker unavailable")

	// ErrTooLarge marks a publish error saying the message exceeds the
	// broker's size limit (max_payload, or the stream's maximum message
	// size). It is permanent until an operator raises the limit, so the
	// relay parks the record at once instead of retrying it.
	ErrTooLarge = errors.New("relay: message too large for the broker")

	// ErrMisconfigured marks an error of Publisher.Prepare saying that the
	// broker cannot take the relay's messages until an operator changes its
	// configuration or the service's (for NATS: a stream of several
	// replicas asked of a server not in a cluster). Run returns it instead
	// of retrying.
	ErrMisconfigured = errors.New("relay: the broker is misconfigured")

	// ErrClosed is returned by Run once Close was called.
	ErrClosed = errors.New("relay: closed")

	// ErrNotFailed is returned by Retry when no parked event has the id.
	ErrNotFailed = errors.New("relay: no failed event with this id")
)
