package notifyhttp

import (
	"errors"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// Errors of the webhook routes, in the API's error kinds.
var (
	errEndpointNotFound = &failure.Error{Kind: failure.NotFound, Code: "webhook_endpoint_not_found", Message: "no webhook endpoint with this id"}
	errDeliveryNotFound = &failure.Error{Kind: failure.NotFound, Code: "webhook_delivery_not_found", Message: "no delivery with this id at this endpoint"}
	errEndpointLimit    = &failure.Error{Kind: failure.Conflict, Code: "webhook_endpoint_limit", Message: "the tenant has as many webhook endpoints as it may register"}
)

// apiError maps the use cases' errors to the API's: each invalid field
// becomes a field error, the endpoint limit, not found and conflict their
// kinds; anything else (the lists' failure errors, internal ones) is
// returned as is.
func apiError(err error) error {
	var invalid []error
	var walk func(error)
	walk = func(err error) {
		var ie *webhook.InvalidError
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		} else if errors.As(err, &ie) {
			invalid = append(invalid, &failure.Error{Kind: failure.Invalid, Code: "invalid_webhook_endpoint", Field: ie.Field, Message: ie.Message})
		}
	}
	walk(err)
	var limit *webhook.LimitError
	switch {
	case len(invalid) > 0:
		return errors.Join(invalid...)
	case errors.As(err, &limit):
		return errEndpointLimit.With("", "the tenant has %d webhook endpoints, the most it may register; delete one to register another", limit.Max)
	case errors.Is(err, app.ErrDeliveryNotFound):
		return errDeliveryNotFound
	case errors.Is(err, webhook.ErrNotFound):
		return errEndpointNotFound
	case errors.Is(err, webhook.ErrConflict):
		return &failure.Error{Kind: failure.Conflict, Code: "webhook_conflict", Message: err.Error()}
	}
	return err
}
