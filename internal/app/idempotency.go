package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// MaxIdempotencyKey is the length of the longest Idempotency-Key accepted
// (keys are visible ASCII, so bytes and characters agree).
const MaxIdempotencyKey = 255

// Errors of idempotent requests.
var (
	ErrInvalidIdempotencyKey = &invoice.Error{Kind: invoice.KindInvalid, Code: "invalid_idempotency_key", Field: "Idempotency-Key",
		Message: "Idempotency-Key must be 1 to 255 visible ASCII characters"}
	ErrIdempotencyKeyReused = &invoice.Error{Kind: invoice.KindInvalid, Code: "idempotency_key_reused",
		Message: "this Idempotency-Key was used with a different request"}
	ErrIdempotencyKeyInUse = &invoice.Error{Kind: invoice.KindConflict, Code: "idempotency_key_in_use",
		Message: "a request with this Idempotency-Key is still being processed; retry later"}
)

// StoredResponse is the response to a request that changed an invoice, as
// stored with the change for replay: exact bytes, so a replay is identical.
type StoredResponse struct {
	Status int
	Header map[string]string // e.g. Content-Type, ETag, Location
	Body   []byte
}

// Idempotency makes a change idempotent under a caller's key. Carried in the
// ctx of Invoices.Add or Update (see WithIdempotency), it has the repository,
// inside the change's transaction:
//   - answer with a *Replayed error, changing nothing, if the tenant already
//     used Key for a request with the same Fingerprint in the last 24 hours;
//     with ErrIdempotencyKeyReused if it used it for another request;
//   - fail with ErrIdempotencyKeyInUse if a request with Key is in flight;
//   - otherwise make the change and store Render's response with it, in the
//     same transaction, and set Stored once committed.
//
// Only changes are stored: a request that fails (a domain error, a failed
// If-Match) or changes nothing (a repeated payment) stores nothing, so a
// retry is evaluated afresh.
type Idempotency struct {
	Key         string
	Fingerprint []byte // identifies the request: a hash of its method, path and body
	// Render returns the response for the invoice as it will be committed.
	// It runs inside the transaction, so it must be fast and do no I/O; an
	// error from it aborts the change and is returned as is.
	Render func(*invoice.Invoice) (StoredResponse, error)
	// Stored is set by the repository after COMMIT to the response it stored
	// (nil if it stored none); the caller writes exactly these bytes.
	Stored *StoredResponse
}

// Replayed is returned as the error of a change whose Idempotency key was
// already used for the same request: nothing was changed, and Response is
// what the first request was answered.
type Replayed struct {
	Response StoredResponse
}

// Error says that the response is a replay.
func (r *Replayed) Error() string { return "app: idempotent replay of an earlier response" }

// NewIdempotency returns an Idempotency for key. It fails with
// ErrInvalidIdempotencyKey unless key is 1 to MaxIdempotencyKey visible
// ASCII characters.
func NewIdempotency(key string, fingerprint []byte, render func(*invoice.Invoice) (StoredResponse, error)) (*Idempotency, error) {
	if key == "" || len(key) > MaxIdempotencyKey {
		return nil, ErrInvalidIdempotencyKey
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return nil, ErrInvalidIdempotencyKey
		}
	}
	return &Idempotency{Key: key, Fingerprint: fingerprint, Render: render}, nil
}

type idempotencyKey struct{}

// WithIdempotency returns ctx carrying idem for the Invoices.Add or Update
// that is called with it.
func WithIdempotency(ctx context.Context, idem *Idempotency) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, idem)
}

// IdempotencyFrom returns the Idempotency ctx carries, or nil.
func IdempotencyFrom(ctx context.Context) *Idempotency {
	idem, _ := ctx.Value(idempotencyKey{}).(*Idempotency)
	return idem
}
