package app

import (
	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// MaxIdempotencyKey is the length of the longest Idempotency-Key accepted
// (keys are visible ASCII, so bytes and characters agree).
const MaxIdempotencyKey = 255

// Errors of idempotent requests.
var (
	ErrInvalidIdempotencyKey = &failure.Error{Kind: failure.Invalid, Code: "invalid_idempotency_key", Field: "Idempotency-Key",
		Message: "Idempotency-Key must be 1 to 255 visible ASCII characters"}
	ErrIdempotencyKeyReused = &failure.Error{Kind: failure.Invalid, Code: "idempotency_key_reused", Field: "Idempotency-Key",
		Message: "this Idempotency-Key was used with a different request"}
	ErrIdempotencyKeyInUse = &failure.Error{Kind: failure.Conflict, Code: "idempotency_key_in_use", Field: "Idempotency-Key",
		Message: "a request with this Idempotency-Key is still being processed; retry later"}
)

// IdempotentRequest makes a change idempotent under a caller's key. Passed in
// ChangeOptions to Invoices.Add or Update, it has the repository, inside the
// change's transaction:
//   - answer with a *Replayed error, changing nothing, if the tenant already
//     used Key for a request with the same Fingerprint in the last 24 hours;
//     with ErrIdempotencyKeyReused if it used it for another request;
//   - fail with ErrIdempotencyKeyInUse if a request with Key is in flight;
//   - otherwise make the change, and store Response's bytes with it, in the
//     same transaction, and return them in Changed.Response.
//
// Only changes are stored: a request that fails (a domain error, a failed
// condition) or changes nothing (a repeated payment) stores nothing, so a
// retry is evaluated afresh.
//
// The response is the caller's: the app and the repository store and return
// its bytes without looking inside, so a caller (the HTTP layer) keeps its
// own framing (status, headers) and no adapter calls back into it.
type IdempotentRequest struct {
	Key         string
	Fingerprint []byte // identifies the request, e.g. a hash of its method, path and body
	// Response encodes the answer to the request from the invoice as it will
	// be committed. It runs inside the transaction, so it must be fast and do
	// no I/O; an error from it aborts the change and is returned as is.
	Response func(*invoice.Invoice) ([]byte, error)
}

// Replayed is returned as the error of a change whose idempotency key was
// already used for the same request: nothing was changed, and Response is
// what was stored with the first request's change.
type Replayed struct {
	Response []byte
}

// Error says that the response is a replay.
func (r *Replayed) Error() string { return "app: idempotent replay of an earlier response" }

// NewIdempotentRequest returns the IdempotentRequest of key. It fails with
// ErrInvalidIdempotencyKey unless key is 1 to MaxIdempotencyKey visible
// ASCII characters.
func NewIdempotentRequest(key string, fingerprint []byte, response func(*invoice.Invoice) ([]byte, error)) (*IdempotentRequest, error) {
	if key == "" || len(key) > MaxIdempotencyKey {
		return nil, ErrInvalidIdempotencyKey
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return nil, ErrInvalidIdempotencyKey
		}
	}
	return &IdempotentRequest{Key: key, Fingerprint: fingerprint, Response: response}, nil
}
