package app

import "github.com/invoicing-dev/invoicing/internal/domain/invoice"

// ErrUnauthorized means the API key is missing, malformed or unknown.
var ErrUnauthorized = &invoice.Error{Kind: invoice.KindUnauthorized, Code: "unauthorized", Message: "a valid API key is required"}

// ErrInvalidTenant means a tenant name is blank or too long.
var ErrInvalidTenant = &invoice.Error{Kind: invoice.KindInvalid, Code: "invalid_tenant", Field: "tenant", Message: "tenant name must be 1 to 100 characters"}
