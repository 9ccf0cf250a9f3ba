package creditnote

import "github.com/google/uuid"

// ID identifies a credit note.
type ID uuid.UUID

// newUUID returns a time-ordered UUIDv7, as the invoice package's ids.
func newUUID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// NewID returns a new credit note id (UUIDv7).
func NewID() ID { return ID(newUUID()) }

// ParseID parses the canonical text form of a credit note id. It fails with
// ErrNotFound for any other text: a malformed id names no credit note.
func ParseID(s string) (ID, error) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return ID{}, ErrNotFound
	}
	return ID(u), nil
}

func (id ID) String() string { return uuid.UUID(id).String() }

// MarshalText encodes the id in canonical form, so it appears as a string in JSON.
func (id ID) MarshalText() ([]byte, error) { return uuid.UUID(id).MarshalText() }
