package kernel

import (
	"time"

	"github.com/google/uuid"
)

// EventID identifies a domain event; it is also the outbox row's key and the
// Nats-Msg-Id used to deduplicate re-sends.
type EventID uuid.UUID

// NewEventID returns a new event id: a time-ordered UUIDv7, so ids sort by
// creation time and index well. uuid.NewV7 only fails if the system's random
// source fails, which leaves nothing sensible to do: it panics then.
func NewEventID() EventID { return EventID(uuid.Must(uuid.NewV7())) }

func (id EventID) String() string { return uuid.UUID(id).String() }

// MarshalText encodes the id in canonical form, so it appears as a string in JSON.
func (id EventID) MarshalText() ([]byte, error) { return uuid.UUID(id).MarshalText() }

// EventMeta is what every domain event carries besides its data.
type EventMeta struct {
	ID         EventID
	Tenant     TenantID
	Version    int64 // the aggregate's version after this event
	OccurredAt time.Time
}

// Meta returns m; embedding EventMeta gives each event its Meta method.
func (m EventMeta) Meta() EventMeta { return m }
