package kernel

import "github.com/google/uuid"

// TenantID identifies the tenant that owns an aggregate. Every read and
// write is scoped by it.
type TenantID uuid.UUID

func (id TenantID) String() string { return uuid.UUID(id).String() }

// MarshalText encodes the id in canonical form, so it appears as a string in JSON.
func (id TenantID) MarshalText() ([]byte, error) { return uuid.UUID(id).MarshalText() }
