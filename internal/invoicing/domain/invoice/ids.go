package invoice

import (
	"github.com/google/uuid"
)

// ID identifies an invoice.
type ID uuid.UUID

// LineID identifies a line within an invoice.
type LineID uuid.UUID

// PaymentID identifies a payment recorded on an invoice.
type PaymentID uuid.UUID

// newUUID returns a time-ordered UUIDv7, so ids sort by creation time and index
// well. uuid.NewV7 only fails if the system's random source fails, which leaves
// nothing sensible to do.
func newUUID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}

// NewID returns a new invoice id (UUIDv7).
func NewID() ID { return ID(newUUID()) }

// ParseID parses the canonical text form of an invoice id. It fails with
// ErrInvalidID for any other text; what that means to a caller (a URL naming
// no invoice, a bad cursor) is the caller's to say.
func ParseID(s string) (ID, error) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return ID{}, ErrInvalidID
	}
	return ID(u), nil
}

// ParseLineID parses the canonical text form of a line id. It fails with
// ErrInvalidID for any other text.
func ParseLineID(s string) (LineID, error) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return LineID{}, ErrInvalidID
	}
	return LineID(u), nil
}

func (id ID) String() string        { return uuid.UUID(id).String() }
func (id LineID) String() string    { return uuid.UUID(id).String() }
func (id PaymentID) String() string { return uuid.UUID(id).String() }

// MarshalText encodes the id in canonical form, so ids appear as strings in JSON.
func (id ID) MarshalText() ([]byte, error)        { return uuid.UUID(id).MarshalText() }
func (id LineID) MarshalText() ([]byte, error)    { return uuid.UUID(id).MarshalText() }
func (id PaymentID) MarshalText() ([]byte, error) { return uuid.UUID(id).MarshalText() }
