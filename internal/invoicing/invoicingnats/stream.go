package invoicingnats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// StreamConfig describes the stream events are published to. Zero fields
// take the defaults noted.
type StreamConfig struct {
	// Name of the stream. Default "INVOICING".
	Name string
	// Subjects the stream captures. Default "invoicing.>".
	Subjects []string
	// Duplicates is the duplicate window: a message whose Nats-Msg-Id the
	// stream saw within it is acknowledged but not stored again. It must
	// exceed the longest time the relay may re-send an acknowledged event
	// (see docs/architecture.md). Default 2m (NATS_DUPLICATE_WINDOW).
	Duplicates time.Duration
	// Replicas is the number of copies in a cluster. Default 1
	// (NATS_STREAM_REPLICAS).
	Replicas int
	// MaxMsgSize limits one message's size in bytes. Default 0: only the
	// server's max_payload limits it.
	MaxMsgSize int32
	// AtomicBatches lets the stream take atomic batches (on nats-server
	// 2.12 and later) and the Publisher send a call of minAtomicBatch
	// messages or more as one. Worth it only where the server fsyncs every
	// write (sync_interval: always, as compose ships it): a batch costs a
	// few fsyncs where async publishes cost one each; on a server that does
	// not, a batch costs a fixed few milliseconds whatever its size, far
	// more than async publishes (docs/architecture.md, "The durable
	// broker"). Default false (NATS_ATOMIC_BATCHES).
	AtomicBatches bool
}

// DefaultStream is the stream name used when StreamConfig.Name is empty.
const DefaultStream = "INVOICING"

func (c *StreamConfig) setDefaults() {
	if c.Name == "" {
		c.Name = DefaultStream
	}
	if len(c.Subjects) == 0 {
		c.Subjects = []string{cloudevent.SubjectPrefix + ">"}
	}
	if c.Duplicates == 0 {
		c.Duplicates = 2 * time.Minute
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
}

// Validate returns an error if a field is out of range, nil otherwise.
func (c StreamConfig) Validate() error {
	var errs []error
	if c.Duplicates < 0 {
		errs = append(errs, fmt.Errorf("duplicate window must be positive, got %s", c.Duplicates))
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas must be 1..5, got %d", c.Replicas))
	}
	if c.MaxMsgSize < 0 {
		errs = append(errs, fmt.Errorf("max message size must not be negative, got %d", c.MaxMsgSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nats: invalid stream config: %w", err)
	}
	return nil
}

// EnsureStream creates the stream cfg describes (zero fields defaulted), or
// updates it to cfg if it exists, with file storage and limits retention;
// on nats-server 2.12 and later it allows atomic batch publishes. It
// returns an error if cfg is invalid, the server cannot be reached, or it
// refuses the change (e.g. subjects overlapping another stream, a storage
// type change).
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) error {
	_, err := ensureStream(ctx, js, cfg)
	return err
}

// ensureStream is EnsureStream, returning the stream's configuration as
// the server reports it: allow_atomic is unset there on a server that does
// not know it.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.StreamConfig, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return jetstream.StreamConfig{}, err
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Name,
		Description: "Domain events of the invoicing service, as CloudEvents (api/asyncapi.yaml).",
		Subjects:    cfg.Subjects,
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Duplicates:  cfg.Duplicates,
		Replicas:    cfg.Replicas,
		MaxMsgSize:  cfg.MaxMsgSize,
		// Older servers would store a batch's messages one by one and
		// answer only its last: asked only of servers that know batches.
		AllowAtomicPublish: cfg.AtomicBatches && serverAtLeast(js.Conn().ConnectedServerVersion(), 2, 12),
	})
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && slices.Contains(refusedForGood, apiErr.ErrorCode) {
		return jetstream.StreamConfig{}, fmt.Errorf("nats: create or update stream %s: %w: %w", cfg.Name, relay.ErrMisconfigured, err)
	}
	if err != nil {
		return jetstream.StreamConfig{}, fmt.Errorf("nats: create or update stream %s: %w", cfg.Name, err)
	}
	return s.CachedInfo().Config, nil
}

// refusedForGood are the JetStream errors of creating or updating the
// stream that no retry clears, only an operator changing the server's
// configuration or this service's: ensureStream marks them
// relay.ErrMisconfigured, so the relay stops saying why (`invoicing relay`
// exits; serve logs it and keeps its API) instead of retrying for ever
// behind a readiness check that can only say the stream is missing. An
// error a server's restart or a node's outage can also cause (JetStream not
// enabled while a server shuts down, insufficient resources, no quorum) is
// not one of them.
var refusedForGood = []jetstream.ErrorCode{
	10074, // replicas > 1 not supported in non-clustered mode: NATS_STREAM_REPLICAS above 1 on a single server
	10065, // subjects overlap with an existing stream: another stream takes invoicing.>
}

// serverAtLeast reports whether version ("2.15.2") is major.minor or later;
// false if it does not parse.
func serverAtLeast(version string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(version, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
