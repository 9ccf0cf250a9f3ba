package app

import (
	"errors"

	"github.com/invoicing-dev/invoicing/internal/failure"
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
	// ErrNoResult is a repository's refusal of a change under an idempotency
	// key that came without the Result to store: a use case's mistake.
	ErrNoResult = errors.New("app: an idempotent change came without its result")
)

// IdempotentRequest makes a change idempotent under a caller's key. Passed in
// ChangeOptions to Invoices.Add or Update, it has the repository, inside the
// change's transaction:
//   - answer with a *Replayed error, changing nothing, if the tenant already
//     used Key for a request with the same Fingerprint in the last 24 hours;
//     with ErrIdempotencyKeyReused if it used it for another request;
//   - fail with ErrIdempotencyKeyInUse if a request with Key is in flight;
//   - otherwise make the change, store the change's Result with it, in the
//     same transaction, and return it in Changed.Result.
//
// Only changes are stored: a request that fails (a domain error, a failed
// condition) or changes nothing (a repeated payment) stores nothing, so a
// retry is evaluated afresh.
//
// The request holds data only. The Result stored is the use case's: it
// computes it from the aggregate after the domain change and hands it to the
// repository with the write (Add's argument, the return of Update's
// UpdateFunc), so nothing runs in the transaction that the use case did not
// pass in, and no adapter calls back into a layer above it. The caller
// frames the Result in its own terms (HTTP: status, headers, body) on the way
// out, for the first answer and for a replay alike.
type IdempotentRequest struct {
	Key         string
	Fingerprint []byte // identifies the request, e.g. a hash of its method, path and body
}

// Replayed is returned as the error of a change whose idempotency key was
// already used for the same request: nothing was changed, and Result is
// what was stored with the first request's change.
type Replayed struct {
	Result Result
	// Legacy, if not nil, is an answer stored before results were stored
	// transport neutral: the caller's own bytes, which that caller reads
	// (Result is then zero). Keys live 24 hours: a day after the upgrade,
	// no key holds such bytes.
	Legacy []byte
}

// Error says that the response is a replay.
func (r *Replayed) Error() string { return "app: idempotent replay of an earlier response" }

// NewIdempotentRequest returns the IdempotentRequest of key. It fails with
// ErrInvalidIdempotencyKey unless key is 1 to MaxIdempotencyKey visible
// ASCII characters.
func NewIdempotentRequest(key string, fingerprint []byte) (*IdempotentRequest, error) {
	if key == "" || len(key) > MaxIdempotencyKey {
		return nil, ErrInvalidIdempotencyKey
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return nil, ErrInvalidIdempotencyKey
		}
	}
	return &IdempotentRequest{Key: key, Fingerprint: fingerprint}, nil
}

// ResultToStore returns the Result a change under key stores: result, or
// the zero Result without key. It fails with ErrNoResult if there is a key
// and result is zero. Every Invoices implementation checks its argument
// with it before writing anything.
func ResultToStore(key *IdempotentRequest, result Result) (Result, error) {
	switch {
	case key == nil:
		return Result{}, nil
	case result.IsZero():
		return Result{}, ErrNoResult
	}
	return result, nil
}
