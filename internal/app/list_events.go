package app

import (
	"context"
	"errors"
	"slices"

	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// Bounds of a page of the event feed.
const (
	DefaultFeedLimit = 100
	MaxFeedLimit     = 1000
)

// Errors of ListEvents.
var (
	ErrInvalidFeedLimit = &invoice.Error{Kind: invoice.KindInvalid, Code: "invalid_limit", Field: "limit", Message: "limit must be between 1 and 1000"}
	ErrInvalidEventType = &invoice.Error{Kind: invoice.KindInvalid, Code: "invalid_event_type", Field: "type", Message: "type is not an event type of this service"}
)

// ListEvents reads a page of a tenant's event feed: its committed events, for
// subscribers that catch up by pulling. The feed covers what the outbox
// retains (published events are pruned after the relay's retention period).
type ListEvents struct {
	Tenant invoice.TenantID
	After  int64  // FeedPage.NextAfter of the previous page; 0 for the first
	Type   string // empty: any; else one of invoice.EventTypes, e.g. "invoice.paid"
	Limit  int    // 0: DefaultFeedLimit
}

// ListEventsHandler handles ListEvents.
type ListEventsHandler struct {
	events Events
}

// Handle returns the next page of the feed: up to Limit events, fewer if
// their payloads would pass PageBytes. It fails with ErrInvalidCursor
// (field after) for a negative or unknown After, ErrInvalidFeedLimit for a
// limit outside 1..MaxFeedLimit and ErrInvalidEventType for an unknown type.
func (h ListEventsHandler) Handle(ctx context.Context, q ListEvents) (FeedPage, error) {
	if q.Limit == 0 {
		q.Limit = DefaultFeedLimit
	}
	switch {
	case q.After < 0:
		return FeedPage{}, ErrInvalidCursor.At("after")
	case q.Limit < 1 || q.Limit > MaxFeedLimit:
		return FeedPage{}, ErrInvalidFeedLimit
	case q.Type != "" && !slices.Contains(invoice.EventTypes, q.Type):
		return FeedPage{}, ErrInvalidEventType
	}
	page, err := h.events.Feed(ctx, q.Tenant, FeedFilter{After: q.After, Type: q.Type, Limit: q.Limit, MaxBytes: PageBytes})
	if errors.Is(err, ErrInvalidCursor) {
		return FeedPage{}, ErrInvalidCursor.At("after")
	}
	return page, err
}
