package app

import "github.com/invoicing-dev/invoicing/internal/domain/invoice"

// ErrUnauthorized means the API key is missing, malformed or unknown.
var ErrUnauthorized = &invoice.Error{Kind: invoice.KindUnauthorized, Code: "unauthorized", Message: "a valid API key is required"}

// ErrInvalidTenant means a tenant name is blank or too long.
var ErrInvalidTenant = &invoice.Error{Kind: invoice.KindInvalid, Code: "invalid_tenant", Field: "tenant", Message: "tenant name must be 1 to 100 characters"}

// ErrUnavailable marks an error of a port that could not do its work for
// now, whatever the request: its database is unreachable, restarting or
// refusing connections. The adapter keeps the cause in the error's tree; the
// caller may retry the request later.
var ErrUnavailable = &invoice.Error{Kind: invoice.KindUnavailable, Code: "service_unavailable", Message: "the service is temporarily unavailable; retry later"}
