package app

import "github.com/invoicing-dev/invoicing/internal/failure"

// ErrUnauthorized means the API key is missing, malformed or unknown.
var ErrUnauthorized = &failure.Error{Kind: failure.Unauthorized, Code: "unauthorized", Message: "a valid API key is required"}

// ErrInvalidTenant means a tenant name is blank or too long.
var ErrInvalidTenant = &failure.Error{Kind: failure.Invalid, Code: "invalid_tenant", Field: "tenant", Message: "tenant name must be 1 to 100 characters"}

// ErrVersionMismatch means a change's Condition does not allow the
// invoice's current version: the caller expected another one.
var ErrVersionMismatch = &failure.Error{Kind: failure.Precondition, Code: "version_mismatch", Field: "If-Match",
	Message: "the invoice's version is not one the request allows"}

// ErrUnavailable marks an error of a port that could not do its work for
// now, whatever the request: its database is unreachable, restarting or
// refusing connections. The adapter keeps the cause in the error's tree; the
// caller may retry the request later.
var ErrUnavailable = &failure.Error{Kind: failure.Unavailable, Code: "service_unavailable", Message: "the service is temporarily unavailable; retry later"}

// ErrCommitUnknown means the connection to the database was lost while it
// committed a change: the change may or may not be stored, and the service
// cannot tell which. A retry with the same Idempotency-Key is safe: it
// returns the first answer if the change was stored, and makes it if not.
var ErrCommitUnknown = &failure.Error{Kind: failure.Unavailable, Code: "commit_outcome_unknown",
	Message: "the connection to the database was lost while the change was being committed, so whether it was stored is unknown; " +
		"a retry with the same Idempotency-Key is safe: it returns the first answer if the change was stored, and makes the change if not"}

// ErrCommitUnknownWithoutKey is ErrCommitUnknown for a change sent without
// an Idempotency-Key: nothing makes its retry safe, so the client is told to
// check whether it was stored before sending it again.
var ErrCommitUnknownWithoutKey = &failure.Error{Kind: failure.Unavailable, Code: "commit_outcome_unknown",
	Message: "the connection to the database was lost while the change was being committed, so whether it was stored is unknown; " +
		"check whether it was (read the resource) before sending it again: without an Idempotency-Key a retry may make the change twice"}

// ErrInvoiceBusy means a change met no rule of the invoice but waited for
// others holding it (or its tenant's numbering) longer than the repository
// waits, or kept losing races to them: the change was not applied and may be
// retried as is, later.
var ErrInvoiceBusy = &failure.Error{Kind: failure.Unavailable, Code: "invoice_busy",
	Message: "the invoice is busy with other changes; retry later"}
